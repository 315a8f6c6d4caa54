"""Which emails a change causes, queued in the outbox in the same transaction.

The workflow calls :func:`queue_for_history` after every history row, with
the step's row, and :func:`queue_for_message` after every message, inside
the transaction of the change: the outbox rows commit or roll back with it.
Who hears of a step is the row's ``told``; whoever took the step is always
left out.

A row keeps the facts of its email (:mod:`.email_facts`), not its words: the
email is written when it is sent (:mod:`.mail_message`), so nothing is
rendered inside the change's transaction.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from babel import Locale, UnknownLocaleError
from flask import current_app
from sqlalchemy.engine import CursorResult

from . import email_facts
from .domain import RequestKind, Role
from .email_facts import Event, Recipient
from .email_ids import mail_domain, message_id, thread_id
from .models import HistoryEntry, Message, OutboxEmail, Request, utcnow
from .send_on_commit import remember_for_commit
from .state import current_state
from .telling import Step

log = logging.getLogger(__name__)

BUYER, ARTIST, SUPPORT = Role.BUYER, Role.ARTIST, Role.SUPPORT

#: Who is told of a new message: the other party (both, when support writes).
MESSAGE_ROUTE: tuple[str, ...] = (BUYER, ARTIST)


def queue_for_history(request: Request, entry: HistoryEntry, step: Step) -> None:
    """Queue the emails a history row causes: to the people its step tells."""
    _queue(Event(request=request, entry=entry, step=step, moment=_moment(request, step)), step.told)


def queue_for_message(request: Request, message: Message, *,
                      opening: tuple[HistoryEntry, Step] | None = None) -> None:
    """Queue the emails a new message causes.

    A message that opens a request (``opening``: the request's first history
    row and its step) is not announced on its own: it is quoted in that
    row's email, queued a moment before in the same transaction, so the
    artist gets one email, not two.
    """
    if opening is not None and request.kind == RequestKind.CANCELLATION and _is_opening_message(message):
        entry, step = opening
        _queue(Event(request=request, entry=entry, message=message, step=step, moment=_moment(request, step)),
               step.told, replace=True)
        return
    _queue(Event(request=request, message=message), MESSAGE_ROUTE,
           gather_seconds=float(current_state().config["MESSAGE_EMAIL_WINDOW"] or 0))


def recipients_for(event: Event, roles: Iterable[str]) -> list[Recipient]:
    """The people ``roles`` stand for on this request, minus whoever acted.

    Each address appears once, even if it holds two roles.
    """
    request = event.request
    default = _default_locale()
    found: list[Recipient] = []
    for role in roles:
        if _is_actor(role, event):
            continue
        if role == BUYER:
            found.append(Recipient(BUYER, _current_buyer_address(request), request.buyer_name,
                                   _locale(request.buyer_locale, default)))
            if request.contact_email:
                # The address a cancellation gave for the answer; the account's own keeps a copy.
                found.append(Recipient(BUYER, request.contact_email, request.buyer_name,
                                       _locale(request.buyer_locale, default)))
        elif role == ARTIST:
            found.append(Recipient(ARTIST, _current_artist_address(request), request.artist_name,
                                   _locale(request.artist_locale, default)))
        elif role == SUPPORT:
            for address in current_state().adapter.support_emails():
                found.append(Recipient(SUPPORT, address, None, default))
    unique: dict[str, Recipient] = {}
    for recipient in found:
        address = (recipient.address or "").strip()
        if address and address.lower() not in unique:
            unique[address.lower()] = recipient
    return list(unique.values())


def _current_buyer_address(request: Request) -> str:
    """The buyer's address as the shop knows it now.

    A buyer who changed their address since the request was made is written
    to at the new one. A cancellation keeps the contact address the buyer gave
    for it. The copy taken at creation serves when the shop no longer knows
    the order.
    """
    if request.kind != RequestKind.CANCELLATION:
        order = current_state().adapter.get_order(request.order_ref)
        if order is not None and (order.buyer_email or "").strip():
            return order.buyer_email
    return request.buyer_email


def _current_artist_address(request: Request) -> str:
    """The artist's address as the shop knows it now (else the copy taken at creation)."""
    artist = current_state().adapter.get_artist(request.artist_ref)
    if artist is not None and (artist.email or "").strip():
        return artist.email
    return request.artist_email


def event_key(event: Event, recipient: Recipient) -> str:
    """Unique per event and recipient: the outbox refuses a second copy."""
    if recipient.role == SUPPORT:
        digest = hashlib.sha256(recipient.address.lower().encode()).hexdigest()[:16]
        return f"{event.key}:support-{digest}"
    if recipient.role == BUYER and recipient.address == event.request.contact_email:
        return f"{event.key}:buyer-contact"
    return f"{event.key}:{recipient.role}"


#: Messages one email quotes at most: a long burst makes several emails, each
#: readable, and adding a message to a waiting email costs the same however
#: long the burst.
GATHERED_AT_MOST = 20


def _queue(event: Event, roles: Iterable[str], *, replace: bool = False, gather_seconds: float = 0) -> None:
    """Queue ``event``'s emails.

    With ``gather_seconds`` (a message), the email waits that long, and a
    recipient who already has such an email waiting about this request gets
    this message added to it instead of a second email. Any other event
    sends at once, and releases the messages waiting for the same people.
    """
    session = current_state().session
    recipients = recipients_for(event, roles)
    if not recipients:
        return
    keys = {event_key(event, r): r for r in recipients}
    existing = {row.event_key: row for row in session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.event_key.in_(list(keys)))
    )}
    now = utcnow()
    if event.message is None or event.entry is not None:
        _release_gathered(event.request.id, [r.address for r in recipients], now)
    domain = mail_domain()
    queued: list[OutboxEmail] = []
    for key, recipient in keys.items():
        row = existing.get(key)
        if row is not None:
            if replace and row.state == "pending" and row.attempts == 0:
                row.facts = email_facts.capture(event, recipient)
            continue
        if gather_seconds and _gather_into_waiting(event, recipient, now):
            continue
        row = OutboxEmail(
            request_id=event.request.id,
            event_key=key,
            recipient=recipient.address.strip(),
            locale=recipient.locale,
            facts=email_facts.capture(event, recipient),
            message_id=message_id(key, secrets.token_hex(6), domain),
            thread_id=thread_id(event.request.id, domain),
            next_attempt_at=now + timedelta(seconds=gather_seconds),
        )
        session.add(row)
        queued.append(row)
    if queued:
        session.flush()
        remember_for_commit(session, [row.id for row in queued], delay=gather_seconds)


def _moment(request: Request, step: Step) -> datetime | None:
    """The date the step's email names, as it stands when the step is taken."""
    return step.moment(request) if step.moment is not None else None


def _waiting_for(request_id: int, address: str, now: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    """The outbox rows of messages still held back for ``address`` on this request."""
    return (OutboxEmail.request_id == request_id, OutboxEmail.recipient == address.strip(),
            OutboxEmail.state == "pending", OutboxEmail.attempts == 0,
            OutboxEmail.event_key.like("message-%"), OutboxEmail.next_attempt_at > now)


def _gather_into_waiting(event: Event, recipient: Recipient, now: datetime) -> bool:
    """Add the message to the email already waiting for ``recipient``; ``False`` if none waits.

    An email quotes at most :data:`GATHERED_AT_MOST` messages: a full one
    leaves at once, and this message starts the next.
    """
    session = current_state().session
    waiting = session.scalar(sa.select(OutboxEmail).where(*_waiting_for(event.request.id, recipient.address, now))
                             .order_by(OutboxEmail.id).limit(1))
    if waiting is None:
        return False
    kept = waiting.facts or {}
    # The messages the email already quotes: each one joined it when posted.
    earlier = list(kept.get("gathered") or ([kept["message"]] if kept.get("message") else []))
    if len(earlier) >= GATHERED_AT_MOST:
        session.execute(sa.update(OutboxEmail).where(OutboxEmail.id == waiting.id, *_waiting_for(
            event.request.id, recipient.address, now)).values(next_attempt_at=now)
            .execution_options(synchronize_session=False))
        return False
    if not earlier:
        return False  # queued before emails kept their facts: sent as it was written
    facts = email_facts.capture(Event(request=event.request, message=event.message), recipient)
    facts["gathered"] = [*earlier, facts["message"]]
    # Guarded: a worker that took the email meanwhile keeps it as it was,
    # and this message gets an email of its own.
    # An UPDATE's result is a cursor result, which counts the rows it changed.
    changed = cast(CursorResult[Any], session.execute(
        sa.update(OutboxEmail).where(OutboxEmail.id == waiting.id, *_waiting_for(event.request.id,
                                                                                 recipient.address, now))
        .values(facts=facts)
        .execution_options(synchronize_session=False)
    ))
    return changed.rowcount == 1


def _release_gathered(request_id: int, addresses: list[str], now: datetime) -> None:
    """Send the messages held back for these people now, before news of a change."""
    session = current_state().session
    for address in addresses:
        session.execute(sa.update(OutboxEmail).where(*_waiting_for(request_id, address, now))
                        .values(next_attempt_at=now).execution_options(synchronize_session=False))


def _is_actor(role: str, event: Event) -> bool:
    """Nobody is emailed about their own action."""
    if role == event.actor_role:
        return True
    return role == BUYER and event.actor_ref == event.request.buyer_ref


def _is_opening_message(message: Message) -> bool:
    earlier = current_state().session.scalar(
        sa.select(sa.func.count()).select_from(Message)
        .where(Message.request_id == message.request_id, Message.id < message.id)
    )
    return not earlier


def _default_locale() -> str:
    return _locale(current_app.config.get("BABEL_DEFAULT_LOCALE"), "en")


def _locale(given: str | None, default: str) -> str:
    """``given`` as Babel writes it (``fr_FR``), or ``default`` if Babel does not know it.

    A language the shop stored wrongly must not stop the change that emails.
    """
    if not given:
        return default
    try:
        return str(Locale.parse(str(given).strip().replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        log.warning("mirette-returns: unknown language %r; writing in %s.", given, default)
        return default
