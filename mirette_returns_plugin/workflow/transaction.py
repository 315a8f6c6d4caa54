"""The transaction every change runs in, and the locks it takes.

:func:`transaction` commits on success (``commit=False`` leaves that to the
caller, to share a transaction with the shop's own writes, and then sends no
signal) and rolls back on error, so a refused action changes nothing. Signals
are sent after the commit, so a receiver never sees a change that is undone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask_sqlalchemy.session import Session
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Conflict, MiretteReturnsError, NotFound
from ..i18n import gettext as _
from ..models import PartLock, Request
from ..state import current_state
from ..upserts import upsert

T = TypeVar("T")

#: Key in ``Session.info`` of the signals waiting for the commit.
PENDING_SIGNALS = "mirette_returns_signals"


def session() -> scoped_session[Session]:
    return current_state().session


def queue_signal(signal: Any, **arguments: object) -> None:
    """Send ``signal`` (with the app as sender) once this transaction commits."""
    session().info.setdefault(PENDING_SIGNALS, []).append((signal, arguments))


def transaction(work: Callable[[], T], *, commit: bool = True) -> T:
    """Run ``work``; commit if asked, roll back on any error.

    The signals ``work`` queued are sent after the commit, in order; with
    ``commit=False`` the caller owns the commit and none is sent.
    A concurrent change that the database refuses (a stale version, a lock
    wait that deadlocked) becomes a :class:`Conflict` with a message.
    """
    db = session()
    db.info.pop(PENDING_SIGNALS, None)
    try:
        result = work()
        if commit:
            db.commit()
    except MiretteReturnsError:
        db.rollback()
        raise
    except (StaleDataError, IntegrityError, OperationalError) as error:
        db.rollback()
        if isinstance(error, OperationalError) and not _is_concurrency_error(error):
            raise
        raise Conflict(changed_meanwhile()) from error
    except BaseException:
        db.rollback()
        raise
    finally:
        pending = db.info.pop(PENDING_SIGNALS, [])
    if commit:
        app = current_state().app
        for signal, arguments in pending:
            signal.send(app, **arguments)
    return result


def _is_concurrency_error(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return any(word in text for word in ("deadlock", "lock wait", "database is locked", "could not serialize"))


def changed_meanwhile() -> str:
    return _("Someone else changed this at the same moment. Look at the page again and retry.")


def as_number(value: object) -> int | None:
    """A whole number as a form sent it, or ``None``."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def lock_request(request_id: object) -> Request:
    """Load a request and lock its row until the transaction ends."""
    return find_request(request_id, lock=True)


def find_request(request_id: object, *, lock: bool = False) -> Request:
    """Load a request (and lock its row if asked), or raise ``NotFound``."""
    number = as_number(request_id)
    # Beyond a 32-bit id the database would fail on the value, not answer "none".
    if number is None or not 0 < number < 2**31:
        raise NotFound(_("This request does not exist."))
    request = session().get(Request, number, with_for_update=lock or None, populate_existing=True)
    if request is None:
        raise NotFound(_("This request does not exist."))
    return request


def lock_part(order_ref: str, artist_ref: str) -> bool:
    """Serialise every change to one artist's part of an order.

    One statement creates the row or bumps its counter (an upsert, so that
    racing first uses neither fail nor deadlock) and holds the row lock on
    PostgreSQL and MariaDB, and the write lock on SQLite, until the
    transaction ends. After it, PostgreSQL (read committed) and SQLite read
    the newest rows.

    MariaDB's repeatable read, though, keeps reading the snapshot the
    transaction took at its first read, which may predate the lock. So there
    the counter is read before and after: if someone else bumped it in
    between, what this transaction reads about the part is out of date and
    ``False`` is returned; the caller must not decide on it.
    """
    db = session()
    table = cast(sa.Table, PartLock.__table__)  # a mapped class's table, typed as any FROM clause
    this_part = (table.c.order_ref == order_ref, table.c.artist_ref == artist_ref)
    dialect = db.get_bind(PartLock).dialect.name
    snapshot_reads = dialect in ("mysql", "mariadb")
    if snapshot_reads:
        seen = db.execute(sa.select(table.c.changes).where(*this_part)).scalar() or 0
    upsert(db, table, {"order_ref": order_ref, "artist_ref": artist_ref, "changes": 1},
           keys=("order_ref", "artist_ref"), updates={"changes": table.c.changes + 1})
    if not snapshot_reads:
        return True
    newest = db.execute(sa.select(table.c.changes).where(*this_part).with_for_update()).scalar()
    return newest == seen + 1
