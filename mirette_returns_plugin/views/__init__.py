"""The HTTP layer: parse, call the workflow, render."""

from __future__ import annotations

from flask import Blueprint

from ..templating import STATIC_FOLDER, TEMPLATE_FOLDER

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
    return blueprint
