"""The support team's list of every request, with filters."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, request

from ..errors import NotAllowed
from ..i18n import gettext as _
from ..models import Request
from ..rendering import render
from ..state import current_state
from . import listing
from .common import current_user

TEMPLATE = "mirette_returns/support_requests.html"

#: Most artists offered in the filter (the list is for choosing, not counting).
MAX_ARTISTS = 500


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/support/requests", "support_list", support_list)


def support_list() -> Response:
    user = current_user()
    if user is None or not user.is_support:
        raise NotAllowed(_("This page is for the marketplace's support team."))
    filters = listing.Filters.from_args(request.args, with_support_filters=True)
    page = listing.load_page([], filters)
    page.artists = _artists()
    return render(TEMPLATE, fragment=("results",), page=page, list_endpoint="mirette_returns.support_list",
                  show_artist=True, unread=_never)


def _artists() -> list[tuple[str, str]]:
    """Artists who have requests, for the filter (one grouped query on an index)."""
    rows = current_state().session.execute(
        sa.select(Request.artist_ref, sa.func.max(Request.artist_name))
        .group_by(Request.artist_ref).order_by(sa.func.max(Request.artist_name)).limit(MAX_ARTISTS)
    )
    return [(ref, name) for ref, name in rows]


def _never(row: Request) -> bool:
    return False
