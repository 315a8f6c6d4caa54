"""Creating requests: a return or an exchange of one line, a cancellation of
one artist's part (or of every part that still may be)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from ..adapter import Artist, Order, User, order_of_buyer
from ..context import Context, current_context
from ..domain import LINE_KINDS, RequestKind, Role, Status
from ..errors import Conflict, NotAllowed, NotFound, ValidationError
from ..i18n import gettext as _, ngettext
from ..models import Request, RequestArtist
from ..money import preview_cancellation, preview_return
from ..photos import PreparedPhoto
from ..upserts import incoming, upsert
from ..user_text import visible_or_empty
from ..windows import minimum_days
from .quotas import check_photo_quota, check_rate
from .reading import (
    cancel_block_reason,
    held_quantities,
    open_cancellation,
    paid_left,
    return_block_reason,
    returnable_quantity,
)
from .records import add_message, record, store_photo
from .steps import SUBMIT
from .transaction import as_number, changed_meanwhile, lock_part, session, transaction


@dataclass
class ReturnForm:
    """What the buyer filled in for one line."""

    line_ref: str
    quantity: object
    kind: str
    reason_code: str | None
    comment: str = ""
    wanted_ref: str | None = None
    wanted_text: str | None = None
    #: Photos already checked and re-encoded (see ``photos.prepare_photo``).
    photos: Sequence[PreparedPhoto] = field(default_factory=tuple)
    submission_token: str | None = None


def submit_return(user: User | None, order_ref: str, form: ReturnForm, *, commit: bool = True,
                  context: Context | None = None) -> Request:
    """Create a return or exchange request for one line of ``order_ref``."""
    ctx = current_context(context)
    return transaction(lambda: _submit_return(ctx, user, order_ref, form), commit=commit)


def clean_token(token: object) -> str | None:
    """A submission token as the form sent it, or ``None`` if it is not one of ours."""
    text = str(token or "")
    return text if 8 <= len(text) <= 48 and text.isalnum() else None


def _submit_return(ctx: Context, user: User | None, order_ref: str, form: ReturnForm) -> Request:
    user, order = _buyer_order(ctx, user, order_ref)
    form.submission_token = clean_token(form.submission_token)
    if form.submission_token:
        existing = _by_token(form.submission_token, user)
        if existing is not None:
            return existing
    found = order.find_line(form.line_ref)
    if found is None:
        raise NotFound(_("This item is not part of the order."))
    part, line = found
    artist = _artist(ctx, part.artist_ref)
    blocked = return_block_reason(order, part, line, artist=artist, context=ctx)
    if blocked:
        raise NotAllowed(blocked)
    check_rate(ctx, user)
    check_photo_quota(ctx, user, Role.BUYER, len(form.photos))
    up_to_date = lock_part(order.ref, part.artist_ref)
    # The second of two racing submits waits on the lock above and then finds
    # the first one's request here.
    if form.submission_token:
        existing = _by_token(form.submission_token, user, newest=not up_to_date)
        if existing is not None:
            return existing
    if not up_to_date:
        raise Conflict(changed_meanwhile())

    errors: dict[str, str] = {}
    available = returnable_quantity(line, held_quantities(order.ref, [line.ref]))
    quantity = as_number(form.quantity)
    if available <= 0:
        # The same refusal, and status, as the form of such a line.
        raise NotAllowed(_("Every unit of this item is already under a request."))
    if quantity is None or quantity < 1:
        errors["quantity"] = (_("You can return 1 item of this line.") if available == 1
                              else _("Enter how many items, from 1 to %(most)s.", most=available))
    elif quantity > available:
        errors["quantity"] = ngettext(
            "You can return at most %(num)s item of this line.",
            "You can return at most %(num)s items of this line.",
            available,
        )
    if form.kind not in LINE_KINDS:
        errors["kind"] = _("Choose a return or an exchange.")
    reason = ctx.reasons.get(form.reason_code)
    if reason is None:
        errors["reason_code"] = _("Choose a reason from the list.")
    elif reason.photo_required and not form.photos:
        errors["photos"] = _("Attach at least one photo for the reason “%(reason)s”.", reason=reason.display)
    if len(form.photos) > ctx.config["MAX_PHOTOS"]:
        errors["photos"] = _("Attach at most %(most)s photos.", most=ctx.config["MAX_PHOTOS"])
    comment = visible_or_empty(form.comment)
    if len(comment) > ctx.config["MESSAGE_MAX_LENGTH"]:
        errors["comment"] = _("Keep the comment under %(most)s characters.", most=ctx.config["MESSAGE_MAX_LENGTH"])
    wanted_ref, wanted_label = None, None
    if form.kind == RequestKind.EXCHANGE:
        options = ctx.adapter.exchange_options(order.ref, line.ref)
        if options:
            option = next((o for o in options if o.ref == (form.wanted_ref or "")), None)
            if option is None:
                errors["wanted_ref"] = _("Choose the product you would like instead.")
            else:
                wanted_ref, wanted_label = option.ref, option.label
        else:
            wanted_label = visible_or_empty(form.wanted_text)[:255]
            if not wanted_label:
                errors["wanted_text"] = _("Say which product you would like instead.")
    if errors:
        raise ValidationError(errors)
    # Without a number or a reason, the checks above have raised.
    assert quantity is not None and reason is not None

    preview = preview_return(artist.policy, part, line, quantity, seller_fault=reason.seller_fault,
                             paid_left=paid_left(order.ref, part))
    now = ctx.now()
    _remember_artist(artist)
    request = Request(
        kind=form.kind,
        status=Status.REQUESTED,
        **_order_columns(order, artist),
        line_ref=line.ref,
        product_ref=line.product_ref,
        product_name=line.product_name[:255],
        variant=(line.variant or None) and line.variant[:255],
        image_url=line.image_url,
        quantity=quantity,
        unit_price=line.unit_price,
        reason_code=reason.code,
        comment=comment or None,
        wanted_ref=wanted_ref,
        wanted_label=wanted_label,
        policy_window_days=artist.policy.window_days,
        policy_refunds_delivery=artist.policy.refunds_delivery_costs,
        policy_return_shipping_paid_by=str(getattr(artist.policy.return_shipping_paid_by, "value",
                                                   artist.policy.return_shipping_paid_by)),
        policy_restocking_fee_percent=artist.policy.restocking_fee_percent,
        policy_text=artist.policy.text or None,
        policy_url=artist.policy.url,
        policy_answer_days=artist.policy.answer_days,
        policy_minimum_window_days=minimum_days() or None,
        refund_items=preview.items,
        refund_delivery=preview.delivery,
        refund_restocking_fee=preview.restocking_fee,
        refund_total=preview.total,
        submission_token=form.submission_token or None,
        created_at=now,
        last_activity_at=now,
        buyer_seen_at=now,
    )
    db = session()
    db.add(request)
    db.flush()
    for upload in form.photos:
        store_photo(ctx, request, None, upload, Role.BUYER, user.ref)
    record(request, SUBMIT, None, Status.REQUESTED, Role.BUYER, user, comment or None, opening=True)
    return request


def request_cancellation(
    user: User | None,
    order_ref: str,
    artist_refs: Sequence[str] | None,
    *,
    message: str,
    contact_email: str | None = None,
    submission_token: str | None = None,
    commit: bool = True,
    context: Context | None = None,
) -> list[Request]:
    """Ask the artist(s) to cancel their part of an order before processing.

    ``artist_refs=None`` asks every artist whose part can still be cancelled:
    one request, with its own thread, per artist.
    """
    ctx = current_context(context)
    return transaction(
        lambda: _request_cancellation(ctx, user, order_ref, artist_refs, message, contact_email, submission_token),
        commit=commit,
    )


def _request_cancellation(ctx: Context, user: User | None, order_ref: str, artist_refs: Sequence[str] | None,
                          message: str, contact_email: str | None, token: str | None) -> list[Request]:
    user, order = _buyer_order(ctx, user, order_ref)
    token = clean_token(token)
    if token:
        existing = _cancellations_by_token(order, token, user)
        if existing:
            return existing
    errors: dict[str, str] = {}
    body = visible_or_empty(message)
    if not body:
        errors["message"] = _("Say why you would like to cancel.")
    elif len(body) > ctx.config["MESSAGE_MAX_LENGTH"]:
        errors["message"] = _("Keep the message under %(most)s characters.", most=ctx.config["MESSAGE_MAX_LENGTH"])
    contact, contact_error = None, None
    if (contact_email or "").strip().casefold() != (order.buyer_email or "").strip().casefold():
        # Another address than the account's (which is the buyer's already).
        contact, contact_error = plain_address(contact_email)
    if contact_error:
        errors["contact_email"] = contact_error
    if artist_refs is None:
        parts = [p for p in order.parts if cancel_block_reason(p) is None
                 and open_cancellation(order.ref, p.artist_ref) is None]
        if not parts:
            errors.setdefault("__all__", _("No part of this order can still be cancelled."))
    else:
        parts = []
        for ref in artist_refs:
            part = order.part(ref)
            if part is None:
                raise NotFound(_("This artist has no items in the order."))
            blocked = cancel_block_reason(part)
            if blocked:
                raise NotAllowed(blocked)
            if open_cancellation(order.ref, ref) is not None:
                raise Conflict(_("You have already asked for this part of the order to be cancelled."))
            parts.append(part)
    if errors:
        raise ValidationError(errors)
    check_rate(ctx, user)

    # Artists new to the plugin are written in one order, whatever the form's,
    # so two cancellations naming the same artists cannot deadlock.
    artists = {part.artist_ref: _artist(ctx, part.artist_ref) for part in parts}
    for ref in sorted(artists):
        _remember_artist(artists[ref])
    created = []
    for index, part in enumerate(parts):
        up_to_date = lock_part(order.ref, part.artist_ref)
        if token and index == 0:
            # A second post of the same form waited on the lock: answer with the first one's requests.
            existing = _cancellations_by_token(order, token, user, newest=not up_to_date)
            if existing:
                return existing
        if not up_to_date or cancel_block_reason(part) or open_cancellation(order.ref, part.artist_ref) is not None:
            raise Conflict(_("This order changed meanwhile; please look at it again."))
        artist = artists[part.artist_ref]
        preview = preview_cancellation(part, order.currency)
        now = ctx.now()
        request = Request(
            kind=RequestKind.CANCELLATION,
            status=Status.REQUESTED,
            **_order_columns(order, artist),
            refund_items=preview.items,
            refund_delivery=preview.delivery,
            refund_total=preview.total,
            policy_window_days=artist.policy.window_days,
            policy_refunds_delivery=artist.policy.refunds_delivery_costs,
            policy_text=artist.policy.text or None,
            policy_url=artist.policy.url,
            policy_answer_days=artist.policy.answer_days,
            submission_token=f"{token}:{index}" if token else None,
            created_at=now,
            last_activity_at=now,
            buyer_seen_at=now,
        )
        request.contact_email = contact
        session().add(request)
        session().flush()
        submitted = record(request, SUBMIT, None, Status.REQUESTED, Role.BUYER, user, None, opening=True)
        # The opening message is quoted in the artist's one email about the request.
        add_message(request, Role.BUYER, user, body, opening=(submitted, SUBMIT))
        created.append(request)
    return created


def plain_address(typed: str | None) -> tuple[str | None, str | None]:
    """A contact address as typed: ``(address, None)``, ``(None, None)`` when
    left blank, or ``(None, message)``.

    Only a bare ``name@domain`` is taken: a display name or angle brackets
    (``"support@shop" <someone@elsewhere>``) would send the answers to
    another mailbox under a misleading name.
    """
    text = (typed or "").strip()
    if not text:
        return None, None
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None, _("Enter a plain email address such as name@example.com, without a name, quotes or "
                       "angle brackets: the artist will answer there.")
    return checked.normalized, None


def _buyer_order(ctx: Context, user: User | None, order_ref: str) -> tuple[User, Order]:
    """The buyer and the order of theirs named ``order_ref``, or raise."""
    if user is None:
        raise NotFound(_("This order does not exist."))
    order = order_of_buyer(ctx.adapter, str(order_ref), user.ref)
    if order is None:
        raise NotFound(_("This order does not exist."))
    return user, order


def _artist(ctx: Context, artist_ref: str) -> Artist:
    artist = ctx.adapter.get_artist(artist_ref)
    if artist is None:
        raise NotFound(_("This artist no longer exists in the shop."))
    return artist


def _remember_artist(artist: Artist) -> None:
    """The artist, under the name the shop gives now, for the support list's filter.

    Read first: the row is written (and so locked until the commit) only for
    an artist's first request or after a change of name, so requests to one
    artist from different orders do not wait on each other.
    """
    name = artist.name[:255]
    values = {"ref": artist.ref, "name": name, "name_key": name.casefold()[:255]}
    table = cast(sa.Table, RequestArtist.__table__)  # a mapped class's table, typed as any FROM clause
    known = session().execute(sa.select(table.c.name, table.c.name_key).where(table.c.ref == artist.ref)).first()
    if known is not None and tuple(known) == (values["name"], values["name_key"]):
        return
    upsert(session(), table, values, keys=("ref",),
           updates={"name": incoming("name"), "name_key": incoming("name_key")})


def _order_columns(order: Order, artist: Artist) -> dict[str, object]:
    return dict(
        order_ref=order.ref,
        order_number=order.number[:64],
        artist_ref=artist.ref,
        artist_name=artist.name[:255],
        artist_email=artist.email,
        artist_locale=artist.locale,
        buyer_ref=order.buyer_ref,
        buyer_name=order.buyer_name[:255],
        buyer_email=order.buyer_email,
        buyer_locale=order.buyer_locale,
        currency=order.currency,
    )


def already_submitted(user: User | None, token: object) -> Request | None:
    """The request a form with this submission token already created, if any:
    the same form sent again (its answer lost, or "send again" after an outage)."""
    cleaned = clean_token(token)
    return _by_token(cleaned, user) if cleaned and user is not None else None


def _by_token(token: str, user: User, *, newest: bool = False) -> Request | None:
    """The request a form with this token already created.

    ``newest`` reads past an old snapshot (a locking read): only for a
    transaction that gives up right after, as its gap lock would hold back
    other buyers' inserts.
    """
    query = sa.select(Request).where(Request.submission_token == token[:64], Request.buyer_ref == user.ref)
    if newest:
        query = query.with_for_update(read=True)
    return session().scalar(query)


def _cancellations_by_token(order: Order, token: str, user: User, *, newest: bool = False) -> list[Request]:
    tokens = [f"{token}:{index}" for index in range(len(order.parts))]
    query = sa.select(Request).where(Request.submission_token.in_(tokens), Request.buyer_ref == user.ref)
    if newest:
        query = query.with_for_update(read=True)
    return list(session().scalars(query))
