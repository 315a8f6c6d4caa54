"""The thread of a request: posting messages, and who has read how far."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from .. import signals
from ..adapter import User
from ..context import Context, current_context
from ..domain import Role, roles_on
from ..errors import NotFound, ValidationError
from ..i18n import gettext as _
from ..models import Message, Request, utcnow
from ..photos import PreparedPhoto
from ..user_text import visible_or_empty
from .quotas import check_message_rate, check_photo_quota, check_thread_open
from .records import add_message, store_photo
from .transaction import find_request, lock_request, queue_signal, session, transaction


def post_message(
    user: User | None,
    request_id: int,
    body: str,
    *,
    photos: Sequence[PreparedPhoto] = (),
    commit: bool = True,
    context: Context | None = None,
) -> Message:
    """Add a message (and photos) to a request's thread."""
    ctx = current_context(context)

    def work() -> tuple[Request, Message]:
        request = lock_request(request_id)
        author, role, text = _checked_message(ctx, user, request, body, len(photos))
        message = add_message(request, role, author, text)
        for upload in photos:
            store_photo(ctx, request, message, upload, role, author.ref)
        queue_signal(signals.message_posted, request=request, message=message)
        return request, message

    _request, message = transaction(work, commit=commit)
    return message


def check_message(user: User | None, request_id: object, body: str, *, photo_count: int,
                  context: Context | None = None) -> None:
    """Raise what :func:`post_message` would refuse, without locking or writing.

    The reply box calls it before decoding any photo: who, which request,
    its status and the limits are all cheap to check, decoding is not.
    :func:`post_message` checks everything again under the row lock.
    """
    _checked_message(current_context(context), user, find_request(request_id), body, photo_count)


def _checked_message(ctx: Context, user: User | None, request: Request, body: str,
                     photo_count: int) -> tuple[User, str, str]:
    """The author, their role and the text of a message ``user`` may post, or raise."""
    roles = roles_on(user, request)
    if user is None or not roles:  # nobody signed in holds no role
        raise NotFound(_("This request does not exist."))
    role = roles[0]
    text = visible_or_empty(body)
    errors: dict[str, str] = {}
    if not text and not photo_count:
        errors["body"] = _("Write a message or attach a photo.")
    elif len(text) > ctx.config["MESSAGE_MAX_LENGTH"]:
        errors["body"] = _("Keep the message under %(most)s characters.", most=ctx.config["MESSAGE_MAX_LENGTH"])
    if photo_count > ctx.config["MAX_PHOTOS"]:
        errors["photos"] = _("Attach at most %(most)s photos.", most=ctx.config["MAX_PHOTOS"])
    if errors:
        raise ValidationError(errors)
    check_thread_open(ctx, request, role)
    check_message_rate(ctx, user, role)
    check_photo_quota(ctx, user, role, photo_count)
    return user, role, text


def mark_seen(user: User | None, request: Request) -> None:
    """Remember that the buyer or the artist has read the request as shown.

    ``request`` is the row the page was rendered from. Nothing is written when
    the viewer had already seen that much: every page view (and every poll
    answer) would otherwise be a write and a commit. The mark is the activity
    the page showed, not the clock, so that a message arriving while the page
    renders stays unread.
    """
    roles = roles_on(user, request)
    shown = request.last_activity_at
    if Role.BUYER in roles and is_unread(request.buyer_seen_at, shown):
        _set_seen(request, "buyer_seen_at", shown)
    if Role.ARTIST in roles and is_unread(request.artist_seen_at, shown):
        _set_seen(request, "artist_seen_at", shown)


def is_unread(seen_at: datetime | None, last_activity_at: datetime | None) -> bool:
    """Something happened on a request since its party last read it."""
    return seen_at is None or (last_activity_at is not None and seen_at < last_activity_at)


def _set_seen(request: Request, column: str, moment: datetime | None) -> None:
    # A plain UPDATE: reading a page must not bump the version a form carries.
    # Never backwards: another tab may have marked a later moment meanwhile.
    seen = getattr(Request, column)
    moment = moment or utcnow()
    session().execute(sa.update(Request).where(Request.id == request.id, sa.or_(seen.is_(None), seen < moment))
                      .values({column: moment}))
    session().commit()
