"""Reading the outbox: the emails the plugin queued, for a shop's own pages.

A shop that wants to show its staff what was sent (the demo's Mailbox page
does) reads them here, as frozen values, rather than querying the plugin's
tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from .mail_message import written
from .models import OutboxEmail
from .state import current_state

#: Most emails :func:`outbox_emails` returns unless told otherwise.
DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class QueuedEmail:
    """One email of the outbox, sent or waiting."""

    id: int
    recipient: str
    subject: str
    body_text: str
    body_html: str
    #: ``"pending"``, ``"sent"`` or ``"failed"``.
    state: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def outbox_emails(recipient: str | None = None, *, limit: int = DEFAULT_LIMIT) -> list[QueuedEmail]:
    """The newest emails first, to ``recipient`` only when given. Needs an app context."""
    query = sa.select(OutboxEmail).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc()).limit(limit)
    if recipient:
        query = query.where(OutboxEmail.recipient == recipient)
    return [_queued(row) for row in current_state().session.scalars(query)]


def outbox_email(email_id: int) -> QueuedEmail | None:
    """One email by its id, or ``None``."""
    row = current_state().session.get(OutboxEmail, email_id)
    return None if row is None else _queued(row)


def outbox_recipients() -> list[str]:
    """Every address the outbox holds an email for, in alphabetical order."""
    query = sa.select(OutboxEmail.recipient).distinct().order_by(OutboxEmail.recipient)
    return list(current_state().session.scalars(query))


def _queued(row: OutboxEmail) -> QueuedEmail:
    email = written(row)  # as the worker writes it, from the row's facts
    return QueuedEmail(
        id=row.id, recipient=row.recipient, subject=email.subject, body_text=email.text,
        body_html=email.html, state=row.state, attempts=row.attempts, last_error=row.last_error,
        created_at=row.created_at, sent_at=row.sent_at,
    )
