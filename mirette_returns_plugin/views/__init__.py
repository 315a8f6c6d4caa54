"""The HTTP layer: parse, call the workflow, render."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from .. import csrf, outage
from ..errors import MiretteReturnsError
from ..i18n import gettext
from ..templating import STATIC_FOLDER, TEMPLATE_FOLDER
from . import artist, buyer, common, details, insights, limits, photos, support
from .entry import nav_links, order_actions

BLUEPRINT_NAME = "mirette_returns"


def create_blueprint() -> Blueprint:
    """A new blueprint for each app, so several apps can mount the plugin."""
    blueprint = Blueprint(
        BLUEPRINT_NAME,
        __name__,
        template_folder=str(TEMPLATE_FOLDER),
        static_folder=str(STATIC_FOLDER),
        static_url_path="/static",
    )
    # Bound the size of a post before anything reads it (the CSRF check does).
    blueprint.before_request(common.limit_upload_size)
    blueprint.before_request(csrf.check_request)
    # Ids and text no database column can hold: a clear answer, not a crash.
    blueprint.url_value_preprocessor(limits.refuse_out_of_range_ids)
    blueprint.before_request(limits.refuse_unstorable_text)
    for pages in (buyer, details, artist, support, insights, photos):
        pages.register(blueprint)
    blueprint.after_request(common.private_pages)
    blueprint.register_error_handler(MiretteReturnsError, common.handle_plugin_error)
    blueprint.register_error_handler(RequestEntityTooLarge, common.handle_too_large)
    outage.register(blueprint)
    # For the shop's own templates (its order page), app-wide.
    blueprint.add_app_template_global(order_actions, "mirette_returns_order_actions")
    blueprint.add_app_template_global(nav_links, "mirette_returns_nav_links")
    blueprint.add_app_template_global(gettext, "mirette_returns_gettext")
    return blueprint
