"""What a step leaves behind: its history row, a message, a photo, and the
emails they cause, queued in the same transaction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .. import notifications, signals
from ..adapter import User
from ..context import Context
from ..domain import FINAL_STATUSES, Role
from ..models import HistoryEntry, Message, Photo, Request, utcnow
from ..photos import PreparedPhoto, discard_on_rollback
from ..telling import Step
from .transaction import queue_signal, session


def record(request: Request, step: Step, from_status: str | None, to_status: str, role: str,
           user: User | None, note: str | None, *, amount: Decimal | None = None, tell: bool = True,
           opening: bool = False) -> HistoryEntry:
    """Write the history row of ``step`` and queue its emails (same transaction).

    ``tell=False`` when an earlier email of the same step already said it all;
    ``opening`` for the row that creates the request.
    """
    now = utcnow()
    entry = HistoryEntry(
        request_id=request.id,
        action=step.action,
        from_status=from_status,
        to_status=to_status,
        actor_role=role,
        actor_ref=user.ref if user else role,
        actor_name=(user.name if user else role)[:255],
        note=note,
        amount=amount,
        created_at=now,
    )
    request.last_activity_at = now
    mark_actor_seen(request, role, now)
    session().add(entry)
    session().flush()
    if tell:
        notifications.queue_for_history(request, entry, step)
    if opening:
        queue_signal(signals.request_created, request=request)
    else:
        queue_signal(signals.status_changed, request=request, entry=entry)
    return entry


def change_status(request: Request, step: Step, to_status: str, role: str, user: User | None,
                  note: str | None = None, *, amount: Decimal | None = None) -> HistoryEntry:
    """Move ``request`` to ``to_status`` and write its history row."""
    from_status = request.status
    request.status = to_status
    if to_status in FINAL_STATUSES:
        request.closed_at = utcnow()
    return record(request, step, from_status, to_status, role, user, note, amount=amount)


def add_message(request: Request, role: str, user: User, body: str, *,
                opening: tuple[HistoryEntry, Step] | None = None) -> Message:
    """Add a message to the thread and queue its emails; ``opening`` is the
    request's first history row and step, when the message opens the request."""
    now = utcnow()
    message = Message(
        request_id=request.id,
        author_role=role,
        author_ref=user.ref,
        author_name=user.name[:255],
        body=body,
        created_at=now,
    )
    request.last_activity_at = now
    mark_actor_seen(request, role, now)
    session().add(message)
    session().flush()
    notifications.queue_for_message(request, message, opening=opening)
    return message


def mark_actor_seen(request: Request, role: str, now: datetime) -> None:
    """Whoever acts has seen everything up to their own step: it is not unread for them."""
    if role == Role.BUYER:
        request.buyer_seen_at = now
    elif role == Role.ARTIST:
        request.artist_seen_at = now


def store_photo(ctx: Context, request: Request, message: Message | None, upload: PreparedPhoto, role: str,
                ref: str) -> Photo:
    stored = ctx.photos.store(upload)
    discard_on_rollback(session(), ctx.photos.storage, (stored.key, stored.thumbnail_key))
    photo = Photo(
        request_id=request.id,
        message_id=message.id if message else None,
        storage_key=stored.key,
        thumbnail_key=stored.thumbnail_key,
        content_type=stored.content_type,
        width=stored.width,
        height=stored.height,
        byte_size=stored.byte_size,
        uploaded_by_role=role,
        uploaded_by_ref=ref,
    )
    session().add(photo)
    return photo
