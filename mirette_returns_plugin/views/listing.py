"""Lists of requests (artist inbox, support list): filters and keyset pages.

Pages are cut on ``(last_activity_at, id)`` descending, which an index
covers: page 50 costs what page 1 costs, and nothing counts the whole table.
A page reads only the columns its rows show (:data:`LIST_COLUMNS`), never
whole requests; the rows are drawn by :mod:`.list_rows`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, cast

import sqlalchemy as sa
from flask import request
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from .. import workflow
from ..models import Request, RequestKind
from ..state import current_state
from .limits import MAX_ID
from .list_rows import RowDrawer, list_words

#: The requests' table, queried with Core: a list's rows are plain rows, not
#: requests loaded by the ORM (conditions on it, such as a view's scope, name
#: its columns, so that the query stays Core).
REQUESTS = cast(sa.Table, Request.__table__)  # a mapped class's table, typed as any FROM clause

#: What a list reads of each request: what its row shows (``_request_row.html``),
#: the unread mark's ``artist_seen_at``, and the ``version`` its kept HTML is keyed by.
LIST_COLUMNS = tuple(REQUESTS.c[name] for name in (
    "id", "version", "kind", "status", "escalated", "last_activity_at", "artist_seen_at", "order_number",
    "product_name", "variant", "quantity", "buyer_name", "artist_name",
))

#: Every list's query before its conditions: built once (a statement is immutable).
_NEWEST_FIRST = sa.select(*LIST_COLUMNS).order_by(REQUESTS.c.last_activity_at.desc(), REQUESTS.c.id.desc())


@dataclass(frozen=True)
class Filters:
    status: str = ""
    kind: str = ""
    artist: str = ""
    escalated: bool = False

    @classmethod
    def from_args(cls, args: MultiDict[str, str], *, with_support_filters: bool) -> Filters:
        status = args.get("status", "")
        kind = args.get("kind", "")
        return cls(
            status=status if status in workflow.STATUS_LABELS else "",
            kind=kind if kind in RequestKind.ALL else "",
            artist=(args.get("artist", "").strip()[:64] if with_support_filters else ""),
            escalated=with_support_filters and args.get("escalated") == "1",
        )

    def args(self) -> dict[str, str]:
        """The filters as query arguments (for the page links)."""
        found = {"status": self.status, "kind": self.kind, "artist": self.artist,
                 "escalated": "1" if self.escalated else ""}
        return {key: value for key, value in found.items() if value}

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """The conditions of the status, kind and escalation filters.

        The artist filter is a name search: the support list turns it into
        artist references (``views.support``)."""
        found = []
        if self.status:
            found.append(REQUESTS.c.status == self.status)
        if self.kind:
            found.append(REQUESTS.c.kind == self.kind)
        if self.escalated:
            found.append(REQUESTS.c.escalated.is_(True))
        return found


@dataclass
class ListPage:
    #: The page's requests, each with the columns of :data:`LIST_COLUMNS` only.
    rows: list[Any]
    filters: Filters
    #: Cursor of the next (older) page, if there is one.
    next_cursor: str | None
    #: Whether this is the first (newest) page.
    is_first: bool
    #: ``draw_row(row, is_unread)``: a row's ``<tr>`` (:class:`.list_rows.RowDrawer`).
    draw_row: Callable[[Any, bool], Markup]
    #: Whether the rows show the artist (the support list).
    show_artist: bool
    #: Statuses and kinds offered in the filters.
    statuses: list[tuple[str, str]] = field(default_factory=list)
    kinds: list[tuple[str, str]] = field(default_factory=list)
    #: The first names an artist filter matched, and how many artists it matched.
    artists: list[str] = field(default_factory=list)
    artists_found: int = 0

    def drawn_rows(self, unread: Callable[[Any], bool]) -> list[Markup]:
        """Each row's ``<tr>``, marked new where ``unread(row)`` says so."""
        draw_row = self.draw_row
        return [draw_row(row, unread(row)) for row in self.rows]


def encode_cursor(row: Any) -> str:
    return f"{row.last_activity_at.isoformat()}~{row.id}"


def decode_cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value or "~" not in value:
        return None
    moment, _sep, number = value.rpartition("~")
    try:
        when = datetime.fromisoformat(moment)
        ident = int(number)
    except ValueError:
        return None
    if when.tzinfo is None or not 0 < ident <= MAX_ID:
        return None
    try:
        # A hand-made cursor may sit at the very edge of the calendar.
        when.astimezone(timezone.utc)
    except OverflowError:
        return None
    return when, ident


def load_page(scope: list[sa.ColumnElement[bool]], filters: Filters, *, show_artist: bool) -> ListPage:
    """One page of requests matching ``scope`` and ``filters``, newest activity first.

    ``scope`` is who may list what: the rows shown are the query's, and
    only theirs, whatever the kept HTML of rows holds."""
    state = current_state()
    size = max(1, int(state.config["PAGE_SIZE"]))
    cursor = decode_cursor(request.args.get("after"))
    query = _NEWEST_FIRST.where(*scope, *filters.conditions())
    if cursor is not None:
        when, ident = cursor
        # The first condition bounds the index range (a plain OR would make
        # the database walk every newer row of the index: 19,000 of them on the
        # busiest artist's page 760); the second drops the cursor's own ties.
        query = query.where(
            REQUESTS.c.last_activity_at <= when,
            sa.or_(REQUESTS.c.last_activity_at < when, REQUESTS.c.id < ident),
        )
    query = query.limit(size + 1)
    rows = list(state.session.execute(query))
    more = len(rows) > size
    rows = rows[:size]
    words = list_words()
    return ListPage(
        rows=rows,
        filters=filters,
        next_cursor=encode_cursor(rows[-1]) if more and rows else None,
        is_first=cursor is None,
        draw_row=RowDrawer(show_artist=show_artist, words=words),
        show_artist=show_artist,
        statuses=words.statuses,
        kinds=words.kinds,
    )
