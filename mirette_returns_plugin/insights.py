"""What the support team's insights page counts: one period's requests.

Every figure is read from the requests created in the period (optionally one
artist's), through the indexes on ``(created_at, id)`` and ``(artist_ref,
created_at)``: counts are grouped in SQL, and only the two medians read one
row per request of the period (two timestamps each), which the period's
bounded length (:data:`MAX_PERIOD_DAYS`) keeps small. Medians are taken in
Python because the databases the plugin runs on share no median function.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.session import Session
from sqlalchemy.orm import QueryableAttribute, scoped_session

from .models import HistoryEntry, Message, Refund, RefundState, Request, RequestArtist

#: The default period: the last 30 days, today included.
DEFAULT_DAYS = 30
#: The longest period one page reads (and one export writes).
MAX_PERIOD_DAYS = 366
#: How many artists and products the top lists show.
TOP = 10
#: The artist's side of a request: who answers the buyer.
ANSWERING_ROLE = "artist"


@dataclass(frozen=True)
class Period:
    """Whole days from ``first`` to ``last``, both included, in UTC."""

    first: date
    last: date
    #: The artists' references the figures are limited to (none: every artist).
    artist_refs: tuple[str, ...] = ()
    #: The chosen artist's name, for the page.
    artist_name: str = ""

    @property
    def starts(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=timezone.utc)

    @property
    def ends(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=timezone.utc)

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        found = [Request.created_at >= self.starts, Request.created_at < self.ends]
        if self.artist_refs:
            found.append(Request.artist_ref.in_(self.artist_refs))
        return found


def default_period(today: date) -> tuple[date, date]:
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def find_artist(db: scoped_session[Session], typed: str) -> tuple[tuple[str, ...], str]:
    """The references and name of the artist ``typed`` names: their shop
    reference, or their whole name in any case. Nothing found: ``((), "")``."""
    table = RequestArtist.__table__
    exact = db.execute(sa.select(table.c.name).where(table.c.ref == typed)).scalar()
    if exact is not None:
        return (typed,), exact
    rows = db.execute(sa.select(table.c.ref, table.c.name).where(table.c.name_key == typed.casefold())
                      .order_by(table.c.ref).limit(TOP)).all()
    return tuple(ref for ref, _name in rows), (rows[0].name if rows else "")


@dataclass
class Insights:
    """The figures of one period."""

    total: int = 0
    by_status: list[tuple[str, int]] = field(default_factory=list)
    by_reason: list[tuple[str, int]] = field(default_factory=list)
    by_kind: list[tuple[str, int]] = field(default_factory=list)
    #: ``(ref, name, requests)``, most requests first.
    top_artists: list[tuple[str, str, int]] = field(default_factory=list)
    #: ``(ref, name, artist's name, requests)``, most requests first.
    top_products: list[tuple[str, str, str, int]] = field(default_factory=list)
    #: Median waits, or ``None`` when no request of the period got there.
    first_answer: timedelta | None = None
    answered: int = 0
    refund: timedelta | None = None
    refunded: int = 0


def _grouped(db: scoped_session[Session], column: QueryableAttribute[Any], period: Period) -> list[tuple[str, int]]:
    count = sa.func.count()
    rows = db.execute(sa.select(column, count).where(*period.conditions()).group_by(column)).all()
    # Sorted here: the databases disagree on where an empty (NULL) reason goes.
    return sorted(((value or "", number) for value, number in rows), key=lambda pair: (-pair[1], pair[0]))


def _top_artists(db: scoped_session[Session], period: Period) -> list[tuple[str, str, int]]:
    """The ``TOP`` artists with the most requests, grouped by reference (one
    of the names each carried, should the shop have renamed them)."""
    count = sa.func.count()
    rows = db.execute(sa.select(Request.artist_ref, sa.func.max(Request.artist_name), count)
                      .where(*period.conditions()).group_by(Request.artist_ref)
                      .order_by(count.desc(), Request.artist_ref).limit(TOP)).all()
    return [(ref, name or ref, number) for ref, name, number in rows]


def _top_products(db: scoped_session[Session], period: Period) -> list[tuple[str, str, str, int]]:
    """The ``TOP`` products with the most returns and exchanges, with their
    artist: two artists may sell products of the same name."""
    count = sa.func.count()
    rows = db.execute(sa.select(Request.product_ref, sa.func.max(Request.product_name),
                                sa.func.max(Request.artist_name), count)
                      .where(*period.conditions(), Request.product_ref.is_not(None))
                      .group_by(Request.product_ref).order_by(count.desc(), Request.product_ref).limit(TOP)).all()
    return [(ref, name or ref, artist, number) for ref, name, artist, number in rows if ref is not None]


def first_answer_column() -> sa.ScalarSelect[datetime]:
    """When the artist first wrote in a request's thread."""
    return (sa.select(sa.func.min(Message.created_at))
            .where(Message.request_id == Request.id, Message.author_role == ANSWERING_ROLE).scalar_subquery())


def first_step_column() -> sa.ScalarSelect[datetime]:
    """When the artist first moved a request on (accepted, declined...)."""
    return (sa.select(sa.func.min(HistoryEntry.created_at))
            .where(HistoryEntry.request_id == Request.id, HistoryEntry.actor_role == ANSWERING_ROLE)
            .scalar_subquery())


def _median(waits: list[timedelta]) -> timedelta | None:
    if not waits:
        return None
    return timedelta(seconds=statistics.median(wait.total_seconds() for wait in waits))


def refund_paid_column() -> sa.ScalarSelect[datetime | None]:
    """When the shop confirmed a request's refund was paid (one row at most:
    read through the refund's unique index on the request, never a scan of
    every refund)."""
    return (sa.select(Refund.completed_at)
            .where(Refund.request_id == Request.id, Refund.state == RefundState.COMPLETED).scalar_subquery())


def _waits(db: scoped_session[Session], period: Period) -> tuple[list[timedelta], list[timedelta]]:
    """How long each request of the period waited for its first answer, and
    for its refund (requests still waiting are left out)."""
    query = sa.select(Request.created_at, first_answer_column(), first_step_column(),
                      refund_paid_column()).where(*period.conditions())
    answers: list[timedelta] = []
    refunds: list[timedelta] = []
    for created, message, step, paid in db.execute(query):
        answered = [moment for moment in (message, step) if moment is not None and moment >= created]
        if answered:
            answers.append(min(answered) - created)
        if paid is not None and paid >= created:
            refunds.append(paid - created)
    return answers, refunds


def gather(db: scoped_session[Session], period: Period) -> Insights:
    found = Insights()
    found.by_status = _grouped(db, Request.status, period)
    found.total = sum(number for _code, number in found.by_status)
    if not found.total:
        return found
    found.by_reason = _grouped(db, Request.reason_code, period)
    found.by_kind = _grouped(db, Request.kind, period)
    if not period.artist_refs or len(period.artist_refs) > 1:
        found.top_artists = _top_artists(db, period)
    found.top_products = _top_products(db, period)
    answers, refunds = _waits(db, period)
    found.first_answer, found.answered = _median(answers), len(answers)
    found.refund, found.refunded = _median(refunds), len(refunds)
    return found


#: The export's columns: stable names a spreadsheet or a script can rely on.
EXPORT_COLUMNS: tuple[tuple[str, QueryableAttribute[Any]], ...] = (
    ("id", Request.id), ("created_at", Request.created_at), ("kind", Request.kind),
    ("status", Request.status), ("reason", Request.reason_code), ("escalated", Request.escalated),
    ("order", Request.order_number), ("artist_ref", Request.artist_ref), ("artist", Request.artist_name),
    ("buyer", Request.buyer_name), ("product_ref", Request.product_ref), ("product", Request.product_name),
    ("quantity", Request.quantity), ("refund_total", Request.refund_total), ("currency", Request.currency),
    ("comment", Request.comment), ("closed_at", Request.closed_at),
)


def export_rows(db: scoped_session[Session], period: Period) -> Iterator[list[object]]:
    """The period's requests, oldest first, as the export's rows (header first).

    Read in batches, so a long period is never held in memory at once."""
    yield [name for name, _column in EXPORT_COLUMNS]
    query = (sa.select(*(column for _name, column in EXPORT_COLUMNS)).where(*period.conditions())
             .order_by(Request.created_at, Request.id).execution_options(yield_per=1000))
    for row in db.execute(query):
        yield list(row)
