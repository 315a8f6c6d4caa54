"""What an email is about, as the change left it: the facts an outbox row keeps.

A change queues its emails inside its transaction, but does not write them:
it stores the facts they tell (the step, the request's values the email
quotes or names, the message as it was written, who reads it and in which
language). The delivery worker writes each email from its facts when it
sends it (:mod:`.mail_message`), so a template or a translation fixed in
the meantime reaches the emails still queued.

:class:`Event` holds either the plugin's rows (while queueing) or the
snapshots below (at delivery); the wording (:mod:`.emails`) reads both alike.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from .telling import Step, registered_step
from .user_text import neutral_bidi, visible_or_empty

#: Version of the facts' layout, stored with them.
FACTS_VERSION = 1

#: Characters of a message, a note or instructions quoted in an email.
EXCERPT_LENGTH = 300

#: Characters of a long text kept in the facts: enough for the excerpt,
#: whatever invisible characters it drops.
KEPT_LENGTH = EXCERPT_LENGTH * 4


@dataclass(frozen=True)
class RequestFacts:
    """The request's values an email names, as they were when it was queued."""

    id: int
    kind: str
    status: str
    order_number: str
    buyer_ref: str
    buyer_name: str
    buyer_email: str
    contact_email: str | None
    artist_name: str
    currency: str
    product_name: str | None
    variant: str | None
    quantity: int
    reason_code: str | None
    comment: str | None
    wanted_label: str | None
    instructions: str | None
    decline_reason: str | None
    refund_decision_reason: str | None
    return_tracking: str | None
    replacement_tracking: str | None
    refund_total: Decimal
    refund_decided_amount: Decimal | None

    @property
    def refund_amount(self) -> Decimal:
        """What the refund pays: the amount decided, else the estimate (as the request's row)."""
        return self.refund_total if self.refund_decided_amount is None else self.refund_decided_amount


@dataclass(frozen=True)
class EntryFacts:
    """A history row's values an email tells."""

    id: int
    action: str
    to_status: str | None
    actor_role: str
    actor_ref: str
    actor_name: str | None
    note: str | None


@dataclass(frozen=True)
class MessageFacts:
    """A message as it was written (its text cut to what an email quotes)."""

    id: int
    body: str | None
    author_role: str
    author_ref: str
    author_name: str | None


#: Long texts cut to :data:`KEPT_LENGTH` in the facts.
_LONG_TEXTS = frozenset({"comment", "instructions", "decline_reason", "note", "body"})


@dataclass(frozen=True)
class Recipient:
    """Who an email goes to, and in which language."""

    role: str
    address: str
    name: str | None
    locale: str


@dataclass(frozen=True)
class Event:
    """Something that happened to a request: a history row or a message.

    ``message`` may accompany a history row: a cancellation's opening message
    is quoted in the "new cancellation request" email.
    """

    request: Any
    entry: Any = None
    message: Any = None
    #: The row of the step the history row records (with ``entry``); found
    #: again by its action and the request's kind at delivery.
    step: Step | None = None
    #: Every message one email gathers, oldest first (``message`` is the newest).
    gathered: tuple[Any, ...] = ()
    #: The date the step's email names, as it stood when the step was taken
    #: (the step's ``moment``: when support steps in, for a reminder).
    moment: datetime | None = None

    @property
    def action(self) -> str:
        return self.entry.action if self.entry is not None else "message"

    @property
    def key(self) -> str:
        """``history-<id>`` or ``message-<id>``: the event, once for all recipients."""
        if self.entry is not None:
            return f"history-{self.entry.id}"
        assert self.message is not None
        return f"message-{self.message.id}"

    @property
    def actor_role(self) -> str:
        return str(self.entry.actor_role if self.entry is not None else self.message.author_role)

    @property
    def actor_ref(self) -> str:
        return str(self.entry.actor_ref if self.entry is not None else self.message.author_ref)


def capture(event: Event, recipient: Recipient) -> dict[str, Any]:
    """The facts of ``event`` for ``recipient``, as JSON values."""
    return {
        "version": FACTS_VERSION,
        "recipient": {"role": recipient.role, "name": recipient.name},
        "request": _values(RequestFacts, event.request),
        "entry": _values(EntryFacts, event.entry) if event.entry is not None else None,
        "message": _values(MessageFacts, event.message) if event.message is not None else None,
        "gathered": [_values(MessageFacts, message) for message in event.gathered],
        "moment": event.moment.isoformat() if event.moment else None,
    }


def restore(facts: dict[str, Any], *, address: str, locale: str) -> tuple[Event, Recipient]:
    """The event and the recipient ``facts`` were captured from."""
    moment = facts.get("moment")
    request = _snapshot(RequestFacts, facts["request"])
    entry = _snapshot(EntryFacts, facts["entry"]) if facts.get("entry") else None
    event = Event(
        request=request,
        entry=entry,
        step=registered_step(entry.action, request.kind) if entry is not None else None,
        message=_snapshot(MessageFacts, facts["message"]) if facts.get("message") else None,
        gathered=tuple(_snapshot(MessageFacts, values) for values in facts.get("gathered") or ()),
        moment=datetime.fromisoformat(moment) if moment else None,
    )
    who = facts["recipient"]
    return event, Recipient(role=who["role"], address=address, name=who.get("name"), locale=locale)


def _values(kind: type, source: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for column in fields(kind):
        value = getattr(source, column.name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, str) and column.name in _LONG_TEXTS:
            value = value[:KEPT_LENGTH]
        found[column.name] = value
    return found


def _snapshot(kind: type, values: dict[str, Any]) -> Any:
    known = {column.name: column for column in fields(kind)}
    given = {}
    for name in known:
        value = values.get(name)
        if value is not None and name in ("refund_total", "refund_decided_amount"):
            value = Decimal(value)
        given[name] = value
    return kind(**given)


def excerpt(text: str | None, length: int = EXCERPT_LENGTH) -> str | None:
    """The first ``length`` characters of ``text``, cut between words, its
    bidirectional controls made harmless (see :mod:`.user_text`)."""
    text = visible_or_empty(text)
    if not text:
        return None
    if len(text) <= length:
        return neutral_bidi(text)
    cut = text[:length]
    space = cut.rfind(" ")
    if space > length * 2 // 3:
        cut = cut[:space]
    # Neutralised after the cut: a control whose pair was cut off goes too.
    return neutral_bidi(cut.rstrip(" ,;:.")) + "…"
