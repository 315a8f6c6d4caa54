"""The artist's inbox: the requests on their items, newest activity first."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .. import workflow
from ..access import current_user
from ..errors import NotAllowed
from ..i18n import gettext as _
from ..rendering import render
from . import listing

TEMPLATE = "mirette_returns/artist_inbox.html"


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/artist/inbox", "artist_inbox", artist_inbox)


def artist_inbox() -> Response:
    user = current_user()
    if user is None or not user.artist_ref:
        raise NotAllowed(_("This page is for the people who sell in this shop."))
    filters = listing.Filters.from_args(request.args, with_support_filters=False)
    page = listing.load_page([listing.REQUESTS.c.artist_ref == user.artist_ref], filters, show_artist=False)
    return render(TEMPLATE, fragment=("results",), page=page, list_endpoint="mirette_returns.artist_inbox",
                  show_artist=page.show_artist, unread=_unread)


def _unread(row: Any) -> bool:
    """Something happened since the artist last opened the request."""
    return workflow.is_unread(row.artist_seen_at, row.last_activity_at)
