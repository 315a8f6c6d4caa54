"""The support team's list of every request, with filters."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, request

from ..errors import NotAllowed
from ..i18n import gettext as _
from ..models import Request, RequestArtist
from ..rendering import render
from ..state import current_state
from . import listing
from .common import current_user

TEMPLATE = "mirette_returns/support_requests.html"

#: Most artists a name search narrows the list to.
MAX_MATCHED_ARTISTS = 50

#: Escape character of the name search's LIKE pattern (not a backslash,
#: which MariaDB also reads as a string escape).
LIKE_ESCAPE = "!"


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/support/requests", "support_list", support_list)


def support_list() -> Response:
    user = current_user()
    if user is None or not user.is_support:
        raise NotAllowed(_("This page is for the marketplace's support team."))
    filters = listing.Filters.from_args(request.args, with_support_filters=True)
    matched = _matching_artists(filters.artist) if filters.artist else []
    scope = [Request.artist_ref.in_([ref for ref, _name in matched]) if matched else sa.false()] \
        if filters.artist else []
    page = listing.load_page(scope, filters)
    page.artists = matched
    return render(TEMPLATE, fragment=("results",), page=page, list_endpoint="mirette_returns.support_list",
                  show_artist=True, unread=_never)


def _matching_artists(typed: str) -> list[tuple[str, str]]:
    """Artists whose shop reference is ``typed``, or whose name contains it.

    One query on the artists table (a row per artist, whatever the history's
    size), never on the requests.
    """
    typed = typed.strip()
    table = RequestArtist.__table__
    is_ref = table.c.ref == typed
    pattern = "%" + _escape_like(typed.casefold()) + "%"
    rows = current_state().session.execute(
        sa.select(table.c.ref, table.c.name)
        .where(sa.or_(is_ref, table.c.name_key.like(pattern, escape=LIKE_ESCAPE)))
        .order_by(sa.case((is_ref, 0), else_=1), table.c.name_key, table.c.ref)
        .limit(MAX_MATCHED_ARTISTS)
    ).all()
    exact = [(ref, name) for ref, name in rows if ref == typed]
    return exact or [(ref, name) for ref, name in rows]


def _escape_like(text: str) -> str:
    """``text`` matched as typed: ``%`` and ``_`` are not wildcards."""
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return text


def _never(row: Request) -> bool:
    return False
