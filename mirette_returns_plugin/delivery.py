"""Delivery of the outbox through Flask-Mail: claiming rows, sending them, recording each outcome.

A worker (``flask mirette-returns send-emails``), the shop's Celery task
(:mod:`.celery_tasks`) or, when ``MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT`` is
set, a background thread of the web process (:mod:`.send_on_commit`) sends
the pending rows. Sending never happens inside the transaction of a change.
Each email is written as it is sent, from its row's facts
(:mod:`.mail_message`); one that cannot be written stays queued with the
reason, and the others go on.

Several workers may run at once. A worker first *claims* a batch: it picks due
rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL, MariaDB), and
takes each with a guarded ``UPDATE`` (still pending, same attempt count), which
also keeps two workers apart on SQLite. A claim pushes ``next_attempt_at``
:data:`CLAIM_SECONDS` ahead, so the rows of a worker killed mid-batch come back
once that time has passed; the email keeps its Message-ID, so a copy sent
twice is recognisable as one email.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from .mail_message import build_message, find_sender
from .models import OutboxEmail, OutboxState, utcnow
from .smtp_connection import (
    SETUP_HINTS,
    MailSetupError,
    NoSenderError,
    close_connection,
    is_permanent,
    is_setup_problem,
    open_connection,
)
from .state import current_state

__all__ = ["MailSetupError", "NoSenderError", "Report", "claim", "count_due", "deliver", "find_sender",
           "forget_connections", "retry_delay", "retry_failed", "send_claimed"]

log = logging.getLogger(__name__)

#: Seconds a worker holds the rows it claimed before another may take them.
CLAIM_SECONDS = 300

#: Wait before the first retry of a failed email, doubled at each attempt
#: (1, 2, 4, ... minutes) up to :data:`RETRY_MAX_SECONDS`.
RETRY_BASE_SECONDS = 60
RETRY_MAX_SECONDS = 6 * 3600


@dataclass
class Report:
    """What one delivery run did."""

    sent: int = 0
    #: Failed this time, tried again later.
    retrying: int = 0
    #: Failed for good (too many attempts, or refused by the server).
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed

    def add(self, other: Report) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.errors.extend(other.errors)


def deliver(
    *,
    batch: int = 50,
    now: datetime | None = None,
    ids: Sequence[int] | None = None,
    limit: int | None = None,
    on_row: Callable[[str], None] | None = None,
) -> Report:
    """Send due outbox rows, batch after batch, until none is left.

    ``ids`` limits the run to those rows; ``limit`` to that many rows;
    ``now`` is the time the run considers current (rows due by then are sent,
    back-offs count from it). ``on_row`` is called with ``"sent"``,
    ``"retrying"`` or ``"failed"`` after each row, for a progress display.
    """
    report = Report()
    try:
        find_sender()  # before claiming anything: without it nothing can leave
    except MailSetupError as error:
        error.report = report
        raise
    while limit is None or report.handled < limit:
        size = batch if limit is None else min(batch, limit - report.handled)
        moment = now or utcnow()
        claimed = claim(size, now=moment, ids=ids)
        if not claimed:
            break
        report.add(send_claimed(claimed, now=now, on_row=on_row))
    return report


def claim(batch: int, *, now: datetime, ids: Sequence[int] | None = None) -> list[tuple[int, int]]:
    """Take up to ``batch`` due rows for this worker: ``[(id, attempt)]``."""
    with _session() as session:
        dialect = session.get_bind(OutboxEmail).dialect.name
        query = (
            sa.select(OutboxEmail.id, OutboxEmail.attempts)
            .where(OutboxEmail.state == OutboxState.PENDING, OutboxEmail.next_attempt_at <= now)
            .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
            .limit(batch)
        )
        if ids is not None:
            query = query.where(OutboxEmail.id.in_(list(ids)))
        if dialect in ("postgresql", "mysql", "mariadb"):
            query = query.with_for_update(skip_locked=True)
        try:
            candidates = session.execute(query).all()
            claimed = []
            for row_id, attempts in candidates:
                taken = _updated(session.execute(
                    sa.update(OutboxEmail)
                    .where(OutboxEmail.id == row_id, OutboxEmail.state == OutboxState.PENDING,
                           OutboxEmail.attempts == attempts)
                    .values(attempts=attempts + 1, next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
                ))
                if taken.rowcount == 1:
                    claimed.append((row_id, attempts + 1))
            session.commit()
        except OperationalError as error:
            if not _is_contention(dialect, error):
                raise  # the database gone away: the caller waits for it
            # Another worker is claiming (SQLite lets one writer in at a time;
            # a server may pick this worker as a deadlock's victim).
            session.rollback()
            log.info("mirette-returns: outbox busy, will try again (%s)", error.orig)
            return []
    return claimed


#: Errors that mean "another worker holds the rows", by the driver's code.
CONTENTION_CODES = {"mysql": {1205, 1213}, "mariadb": {1205, 1213}}
CONTENTION_STATES = {"40001", "40P01", "55P03"}  # PostgreSQL: serialisation, deadlock, lock not available


def _is_contention(dialect: str, error: OperationalError) -> bool:
    if dialect == "sqlite":
        return "locked" in str(error.orig) or "busy" in str(error.orig)
    if dialect == "postgresql":
        return getattr(error.orig, "sqlstate", None) in CONTENTION_STATES
    args: tuple[Any, ...] = getattr(error.orig, "args", ())
    return bool(args) and args[0] in CONTENTION_CODES.get(dialect, set())


def send_claimed(claimed: Sequence[tuple[int, int]], *, now: datetime | None = None,
                 on_row: Callable[[str], None] | None = None) -> Report:
    """Send the claimed rows over one SMTP connection and record each outcome."""
    report = Report()
    mail = current_app.extensions["mail"]
    with _session() as session:
        rows = {row.id: row for row in session.scalars(
            sa.select(OutboxEmail).where(OutboxEmail.id.in_([row_id for row_id, _ in claimed]))
        )}
        session.expunge_all()
    pending = [(rows[row_id], attempt) for row_id, attempt in claimed if row_id in rows]
    connection = open_connection(mail)
    try:
        for index, (row, attempt) in enumerate(pending):
            if isinstance(connection, Exception):
                # Nothing can leave: every email in hand goes back as it was.
                raise _setup_error(connection, pending[index:], report, now=now)
            try:
                connection.send(build_message(row))
            except Exception as error:
                if is_setup_problem(error):
                    raise _setup_error(error, pending[index:], report, now=now) from None
                outcome = _record_failure(row.id, attempt, error, now=now)
                if isinstance(error, smtplib.SMTPServerDisconnected):
                    close_connection(connection)
                    connection = open_connection(mail)
            else:
                outcome = _record_sent(row.id, now=now)
            report.add(outcome)
            if on_row:
                on_row("sent" if outcome.sent else "failed" if outcome.failed else "retrying")
    finally:
        if not isinstance(connection, Exception):
            close_connection(connection)
    return report


def retry_failed() -> int:
    """Put every email that failed for good back in the queue; returns how many."""
    with _session() as session:
        result = _updated(session.execute(
            sa.update(OutboxEmail).where(OutboxEmail.state == OutboxState.FAILED)
            .values(state=OutboxState.PENDING, attempts=0, next_attempt_at=utcnow())
        ))
        session.commit()
        return result.rowcount


def count_due(now: datetime | None = None) -> int:
    """Emails waiting to be sent now."""
    with _session() as session:
        return session.scalar(
            sa.select(sa.func.count()).select_from(OutboxEmail)
            .where(OutboxEmail.state == OutboxState.PENDING, OutboxEmail.next_attempt_at <= (now or utcnow()))
        ) or 0


def retry_delay(attempt: int) -> timedelta:
    """Wait after the ``attempt``-th failed attempt."""
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0), RETRY_MAX_SECONDS))


def _record_sent(row_id: int, *, now: datetime | None) -> Report:
    with _session() as session:
        # Not guarded by the attempt: if another worker took the row after our
        # claim ran out, it was sent all the same.
        session.execute(
            sa.update(OutboxEmail).where(OutboxEmail.id == row_id, OutboxEmail.state == OutboxState.PENDING)
            .values(state=OutboxState.SENT, sent_at=now or utcnow(), last_error=None)
        )
        session.commit()
    return Report(sent=1)


#: Tries of one release when the database picks it as a deadlock's victim.
RELEASE_TRIES = 5


def _release(claimed: Sequence[tuple[OutboxEmail, int]], reason: str, *, now: datetime | None) -> None:
    """Give claimed emails back untouched: the attempt is not counted, they are due now.

    One short transaction a row, in the order of the ids, tried again when the
    database gives way to another sender releasing at the same moment (MariaDB
    may pick either as a deadlock's victim): a release is never lost to that.
    """
    for row, attempt in sorted(claimed, key=lambda pair: pair[0].id):
        for tries in range(1, RELEASE_TRIES + 1):
            with _session() as session:
                try:
                    session.execute(
                        sa.update(OutboxEmail)
                        .where(OutboxEmail.id == row.id, OutboxEmail.state == OutboxState.PENDING,
                               OutboxEmail.attempts == attempt)
                        .values(attempts=attempt - 1, next_attempt_at=now or utcnow(), last_error=reason[:2000])
                    )
                    session.commit()
                    break
                except OperationalError as error:
                    session.rollback()
                    dialect = session.get_bind(OutboxEmail).dialect.name
                    if tries == RELEASE_TRIES or not _is_contention(dialect, error):
                        raise
            time.sleep(0.05 * tries)


def _setup_error(error: BaseException, in_hand: Sequence[tuple[OutboxEmail, int]], report: Report, *,
                 now: datetime | None) -> MailSetupError:
    """Release the emails in hand and say, in one line, what to check."""
    if isinstance(error, MailSetupError):
        line = str(error)
    else:
        mail = current_app.extensions["mail"]
        hint = next((text for kind, text in SETUP_HINTS if isinstance(error, kind)),
                    "check MAIL_SERVER and MAIL_PORT, and that the server is running")
        line = (f"No email sent through the SMTP server {mail.server}:{mail.port} "
                f"({type(error).__name__}: {error}): {hint}; the emails stay queued.")
    _release(in_hand, line, now=now)
    if isinstance(error, NoSenderError):
        return NoSenderError(line, report)
    return MailSetupError(line, report)


def _record_failure(row_id: int, attempt: int, error: BaseException, *, now: datetime | None) -> Report:
    moment = now or utcnow()
    most = int(current_state().config["MAIL_MAX_ATTEMPTS"])
    give_up = attempt >= most or is_permanent(error)
    text = f"{type(error).__name__}: {error}"[:2000]
    with _session() as session:
        values: dict[str, Any] = {"last_error": text}
        if give_up:
            values["state"] = OutboxState.FAILED
        else:
            values["next_attempt_at"] = moment + retry_delay(attempt)
        session.execute(
            sa.update(OutboxEmail)
            .where(OutboxEmail.id == row_id, OutboxEmail.state == OutboxState.PENDING,
                   OutboxEmail.attempts == attempt)
            .values(**values)
        )
        session.commit()
    log.warning("mirette-returns: email %s not sent (attempt %s%s): %s", row_id, attempt,
                ", giving up" if give_up else "", text)
    return Report(failed=1, errors=[text]) if give_up else Report(retrying=1, errors=[text])


def forget_connections() -> None:
    """Drop the pooled connections, so the next use opens fresh ones (after a database outage)."""
    # Flask-SQLAlchemy binds a model to an Engine, never to one Connection.
    cast(Engine, current_state().session.get_bind(OutboxEmail)).dispose()


def _updated(result: Result[Any]) -> CursorResult[Any]:
    """An UPDATE's result, which counts its rows (SQLAlchemy types any statement's result alike)."""
    return cast(CursorResult[Any], result)


def _session() -> Session:
    """A session of its own, apart from the caller's transaction."""
    state = current_state()
    return Session(bind=state.session.get_bind(OutboxEmail), expire_on_commit=False)


