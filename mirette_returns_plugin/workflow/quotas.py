"""How much one person may send: requests per hour, messages per minute and
per day, messages per thread, photos per day."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ..adapter import User
from ..context import Context, current_context
from ..domain import Role
from ..errors import NotAllowed
from ..i18n import gettext as _, ngettext
from ..models import Message, Photo, Request
from .transaction import session

#: Roles held to the daily and per-thread limits. The marketplace's own team
#: answers many threads a day and must be able to write in any of them.
LIMITED_ROLES = frozenset({Role.BUYER, Role.ARTIST})


def check_rate(ctx: Context, user: User) -> None:
    most = ctx.config["REQUESTS_PER_HOUR"]
    if not most:
        return
    since = ctx.now() - timedelta(hours=1)
    count = session().scalar(
        sa.select(sa.func.count()).select_from(Request)
        .where(Request.buyer_ref == user.ref, Request.created_at >= since)
    )
    if count >= most:
        raise NotAllowed(_("You have sent many requests in the last hour. Please wait a little and try again."))


def check_message_rate(ctx: Context, user: User, role: str) -> None:
    most = ctx.config["MESSAGES_PER_MINUTE"]
    if most:
        since = ctx.now() - timedelta(minutes=1)
        count = session().scalar(
            sa.select(sa.func.count()).select_from(Message)
            .where(Message.author_ref == user.ref, Message.author_role == role, Message.created_at >= since)
        )
        if count >= most:
            raise NotAllowed(_("You are sending messages very fast. Please wait a minute and try again."))
    most = ctx.config["MESSAGES_PER_DAY"]
    if most and role in LIMITED_ROLES:
        since = ctx.now() - timedelta(days=1)
        count = session().scalar(
            sa.select(sa.func.count()).select_from(Message)
            .where(Message.author_ref == user.ref, Message.created_at >= since)
        )
        if count >= most:
            raise NotAllowed(ngettext("You have sent %(num)s message in the last 24 hours, the most allowed. "
                                      "Please write again tomorrow.",
                                      "You have sent %(num)s messages in the last 24 hours, the most allowed. "
                                      "Please write again tomorrow.", most))


def closed_thread_reason(request: Request, role: str, *, context: Context | None = None) -> str | None:
    """Why ``role`` may no longer write in ``request``'s thread because it was
    closed too long ago (``MESSAGES_AFTER_CLOSING_DAYS``), or ``None``."""
    if role not in LIMITED_ROLES or request.closed_at is None:
        return None
    ctx = current_context(context)
    days = ctx.config["MESSAGES_AFTER_CLOSING_DAYS"]
    if ctx.now() < request.closed_at + timedelta(days=days):
        return None
    return ngettext(
        "This request was closed more than %(num)s day ago: its thread takes no more messages. "
        "Contact the support team if you need help.",
        "This request was closed more than %(num)s days ago: its thread takes no more messages. "
        "Contact the support team if you need help.", days)


def check_thread_open(ctx: Context, request: Request, role: str) -> None:
    """A thread takes messages while the request is open, a grace period
    after it closed, and up to a number of messages (support: always)."""
    if role not in LIMITED_ROLES:
        return
    closed = closed_thread_reason(request, role, context=ctx)
    if closed:
        raise NotAllowed(closed)
    most = ctx.config["MESSAGES_PER_THREAD"]
    if most:
        count = session().scalar(sa.select(sa.func.count()).select_from(Message)
                                 .where(Message.request_id == request.id))
        if count >= most:
            raise NotAllowed(ngettext(
                "This thread has reached its limit of %(num)s message. Contact the support team if you need help.",
                "This thread has reached its limit of %(num)s messages. Contact the support team if you need help.",
                most))


def check_photo_quota(ctx: Context, user: User, role: str, count: int) -> None:
    most = ctx.config["PHOTOS_PER_DAY"]
    if not count or not most or role not in LIMITED_ROLES:
        return
    since = ctx.now() - timedelta(days=1)
    sent = session().scalars(sa.select(sa.func.count()).select_from(Photo)
                             .where(Photo.uploaded_by_ref == user.ref, Photo.created_at >= since)).one()
    if sent + count > most:
        left = max(most - sent, 0)
        raise NotAllowed(ngettext(
            "You can send %(num)s photo per 24 hours and have %(left)s left: attach fewer photos, "
            "or send them tomorrow.",
            "You can send %(num)s photos per 24 hours and have %(left)s left: attach fewer photos, "
            "or send them tomorrow.", most, left=left))


def check_new_request(user: User, *, photo_count: int, context: Context | None = None) -> None:
    """Raise if ``user`` may not send a request with ``photo_count`` photos
    now (the hourly rate, the photo quota), before any photo is decoded."""
    ctx = current_context(context)
    check_rate(ctx, user)
    check_photo_quota(ctx, user, Role.BUYER, photo_count)
