"""The support team's list of every request, with filters."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, request

from ..access import current_user
from ..errors import NotAllowed
from ..i18n import gettext as _
from ..models import RequestArtist
from ..rendering import render
from ..state import current_state
from . import listing

TEMPLATE = "mirette_returns/support_requests.html"

#: Artists' names shown above the results of a name search.
SHOWN_ARTISTS = 10

#: Escape character of the name search's LIKE pattern (not a backslash,
#: which MariaDB also reads as a string escape).
LIKE_ESCAPE = "!"


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/support/requests", "support_list", support_list)


def support_list() -> Response:
    user = current_user()
    if user is None or not user.is_support:
        raise NotAllowed(_("This page is for the shop's support team."))
    filters = listing.Filters.from_args(request.args, with_support_filters=True)
    scope = []
    names: list[str] = []
    total = 0
    if filters.artist:
        condition, names, total = _artist_search(filters.artist)
        scope.append(condition)
    page = listing.load_page(scope, filters, show_artist=True)
    page.artists, page.artists_found = names, total
    return render(TEMPLATE, fragment=("results",), page=page, list_endpoint="mirette_returns.support_list",
                  show_artist=page.show_artist, unread=_never)


def _artist_search(typed: str) -> tuple[sa.ColumnElement[bool], list[str], int]:
    """The requests' condition for ``typed``, the first names it matched, and how many.

    ``typed`` is an artist's shop reference (a link from elsewhere) or part
    of a name, in any case. Only the artists table is searched (a row per
    artist, whatever the history's size); the requests are then those of
    every matching artist.
    """
    table = RequestArtist.__table__
    db = current_state().session
    exact = db.execute(sa.select(table.c.name).where(table.c.ref == typed)).scalar()
    if exact is not None:
        return listing.REQUESTS.c.artist_ref == typed, [exact], 1
    matches = table.c.name_key.like("%" + _escape_like(typed.casefold()) + "%", escape=LIKE_ESCAPE)
    names = list(db.scalars(sa.select(table.c.name).where(matches)
                            .order_by(table.c.name_key, table.c.ref).limit(SHOWN_ARTISTS + 1)))
    total = len(names)
    if total > SHOWN_ARTISTS:
        total = db.scalar(sa.select(sa.func.count()).select_from(table).where(matches)) or total
    return listing.REQUESTS.c.artist_ref.in_(sa.select(table.c.ref).where(matches)), names[:SHOWN_ARTISTS], total


def _escape_like(text: str) -> str:
    """``text`` matched as typed: ``%`` and ``_`` are not wildcards."""
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return text


def _never(row: Any) -> bool:
    return False
