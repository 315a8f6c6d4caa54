"""The one place where a request is created or changes status.

:data:`TRANSITIONS` is the whole state machine: for each request kind and
action, the statuses it starts from, the status it leads to, the roles that
may take it, the fields it asks for and its guard. Pages and tests go through
the service functions below; nothing else writes a status.

Service functions commit on success (``commit=False`` leaves that to the
caller, to share a transaction with the shop's own writes, and then sends no
signal) and roll back on error, so a refused action changes nothing. Signals
are sent after the commit, so a receiver never sees a change that is undone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import notifications, signals, words
from .access import Role, acts_on_own_purchase, roles_on
from .adapter import Artist, Order, OrderLine, OrderPart, Stage, User, order_of_buyer
from .errors import AdapterError, Conflict, MiretteReturnsError, NotAllowed, NotFound, ValidationError
from .i18n import N_, gettext as _, ngettext
from .models import HistoryEntry, Message, PartLock, Photo, Request, RequestArtist, RequestKind, utcnow
from .models import REASON_LENGTH
from .photos import discard_on_rollback
from .upserts import incoming, upsert
from .user_text import visible_or_empty
from .money import parse_amount, preview_cancellation, preview_return
from .state import current_state
from .windows import current_window, minimum_days


class Status:
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    SHIPPED_BACK = "shipped_back"
    RECEIVED = "received"
    REFUND_INITIATED = "refund_initiated"
    REFUNDED = "refunded"
    REPLACEMENT_SHIPPED = "replacement_shipped"
    ORDER_REFUSED = "order_refused"
    #: A cancellation of a part the buyer had not paid: nothing to refund.
    CANCELLED = "cancelled"


#: English names of the statuses, translated when shown.
STATUS_LABELS: dict[str, str] = {
    Status.REQUESTED: N_("Requested"),
    Status.ACCEPTED: N_("Accepted - return instructions given"),
    Status.DECLINED: N_("Declined"),
    Status.WITHDRAWN: N_("Withdrawn"),
    Status.SHIPPED_BACK: N_("Sent back"),
    Status.RECEIVED: N_("Product received - reimbursement can be initiated"),
    Status.REFUND_INITIATED: N_("Refund initiated"),
    Status.REFUNDED: N_("Refunded"),
    Status.REPLACEMENT_SHIPPED: N_("Replacement shipped"),
    Status.ORDER_REFUSED: N_("Order refused - refund initiated"),
    Status.CANCELLED: N_("Order cancelled - nothing was charged"),
}

#: Where a shop is its own only seller, the buyer asked it to cancel and it
#: did: nothing was "refused" (see :func:`words.is_marketplace`).
SINGLE_SELLER_STATUS_LABELS: dict[str, str] = {
    Status.ORDER_REFUSED: N_("Order cancelled - refund initiated"),
}

#: A status's words where they differ by kind: an exchange's item comes back
#: for a replacement, never for a reimbursement.
KIND_STATUS_LABELS: dict[tuple[str, str], str] = {
    (Status.RECEIVED, RequestKind.EXCHANGE): N_("Product received - the replacement can be shipped"),
}

KIND_LABELS: dict[str, str] = {
    RequestKind.RETURN: N_("Return"),
    RequestKind.EXCHANGE: N_("Exchange"),
    RequestKind.CANCELLATION: N_("Cancellation"),
}

#: Statuses after which nothing more happens.
FINAL_STATUSES = frozenset(
    {Status.DECLINED, Status.WITHDRAWN, Status.REFUNDED, Status.REPLACEMENT_SHIPPED, Status.CANCELLED}
)

#: Statuses whose quantity is free again: nothing was taken back, or the
#: buyer holds a replacement they may in turn return or exchange.
RELEASING_STATUSES = frozenset({Status.DECLINED, Status.WITHDRAWN, Status.REPLACEMENT_SHIPPED})

#: Stages of an order part from which a return or an exchange may be asked.
RETURNABLE_STAGES = frozenset({Stage.ACCEPTED, Stage.SHIPPED, Stage.DELIVERED})

LINE_KINDS = frozenset({RequestKind.RETURN, RequestKind.EXCHANGE})
ALL_KINDS = frozenset(RequestKind.ALL)


def status_label(status: str, kind: str | None = None) -> str:
    """A status's words, translated; ``kind`` gives the words that fit that kind of request."""
    if (status, kind) in KIND_STATUS_LABELS:
        return _(KIND_STATUS_LABELS[(status, kind)])
    if status in SINGLE_SELLER_STATUS_LABELS and not words.is_marketplace():
        return _(SINGLE_SELLER_STATUS_LABELS[status])
    return _(STATUS_LABELS.get(status, status))


def kind_label(kind: str) -> str:
    return _(KIND_LABELS.get(kind, kind))


def came_back_faulty(request: Request) -> bool:
    """Whether the buyer said the item was damaged, wrong or not as described
    (a reason the seller is at fault for): it never comes back "in good condition"."""
    reason = current_state().reasons.get(request.reason_code)
    return bool(reason and reason.seller_fault)


@dataclass(frozen=True)
class FormField:
    """A text field an action asks for."""

    name: str
    label: str
    required: bool = False
    max_length: int | None = None
    multiline: bool = True
    #: The keyboard a phone shows (``"decimal"`` for an amount).
    inputmode: str | None = None


INSTRUCTIONS = FormField("note", N_("Return instructions for the buyer"), required=True)
DECLINE_REASON = FormField("note", N_("Reason, shown to the buyer"), required=True)
OPTIONAL_NOTE = FormField("note", N_("Note (optional)"))
TRACKING = FormField("tracking", N_("Tracking number (optional)"), max_length=255, multiline=False)
REFUND_AMOUNT = FormField("amount", N_("Amount to refund"), required=True, max_length=20, multiline=False,
                          inputmode="decimal")
REFUND_REASON = FormField("note", N_("Why less is refunded, shown to the buyer"), required=True,
                          max_length=REASON_LENGTH)

Guard = Callable[[Request], "str | None"]


@dataclass(frozen=True)
class Transition:
    """One step of the state machine."""

    action: str
    kinds: frozenset[str]
    sources: frozenset[str]
    #: ``None`` keeps the status (a step recorded in the history only).
    target: str | None
    roles: frozenset[str]
    #: Button label, translated when shown.
    label: str
    fields: tuple[FormField, ...] = ()
    #: Returns a message when the step is not possible now.
    guard: Guard | None = None
    #: Buttons that cannot be undone ask for a confirmation.
    destructive: bool = False
    #: Where the step's effect may lead instead of ``target``: refusing a part
    #: the buyer has not paid cancels it with nothing to refund.
    also_leads_to: frozenset[str] = frozenset()

    def leads_to(self, request: Request) -> str:
        return self.target or request.status


def _needs_exchange(request: Request) -> str | None:
    if request.kind != RequestKind.EXCHANGE:
        return _("Only an exchange can be converted to a refund.")
    return None


def _refund_retryable(request: Request) -> str | None:
    from .refunds import retry_block_reason

    return retry_block_reason(request)


def _refund_not_started(request: Request, *, lock: bool = False) -> str | None:
    from .refunds import refund_of

    if refund_of(request, lock=lock) is not None:
        return _("The refund has already been started: its amount can no longer change.")
    return None


def _not_escalated(request: Request) -> str | None:
    return _("Support has already been asked to step in.") if request.escalated else None


def _escalated(request: Request) -> str | None:
    return None if request.escalated else _("Nobody asked support to step in.")


ARTIST_SIDE = frozenset({Role.ARTIST, Role.SUPPORT})

#: The state machine. One row per (action, kinds); read it as a table.
TRANSITIONS: tuple[Transition, ...] = (
    # Return and exchange.
    Transition("accept", LINE_KINDS, frozenset({Status.REQUESTED}), Status.ACCEPTED, ARTIST_SIDE,
               N_("Accept and give return instructions"), (INSTRUCTIONS,)),
    Transition("decline", LINE_KINDS, frozenset({Status.REQUESTED, Status.ACCEPTED, Status.SHIPPED_BACK}),
               Status.DECLINED, ARTIST_SIDE, N_("Decline"), (DECLINE_REASON,), destructive=True),
    Transition("withdraw", LINE_KINDS, frozenset({Status.REQUESTED, Status.ACCEPTED}), Status.WITHDRAWN,
               frozenset({Role.BUYER}), N_("Withdraw my request"), destructive=True),
    Transition("ship_back", LINE_KINDS, frozenset({Status.ACCEPTED}), Status.SHIPPED_BACK,
               frozenset({Role.BUYER}), N_("I have sent the item back"), (TRACKING,)),
    Transition("receive", LINE_KINDS, frozenset({Status.ACCEPTED, Status.SHIPPED_BACK}), Status.RECEIVED,
               ARTIST_SIDE, N_("Product received in good condition"), (OPTIONAL_NOTE,)),
    Transition("convert_to_refund", frozenset({RequestKind.EXCHANGE}),
               frozenset({Status.ACCEPTED, Status.SHIPPED_BACK, Status.RECEIVED}), None, ARTIST_SIDE,
               N_("Refund instead, so the buyer can reorder"), (OPTIONAL_NOTE,), guard=_needs_exchange),
    Transition("ship_replacement", frozenset({RequestKind.EXCHANGE}), frozenset({Status.RECEIVED}),
               Status.REPLACEMENT_SHIPPED, ARTIST_SIDE, N_("Replacement shipped"), (TRACKING,)),
    # The item came back used, incomplete or damaged: less than the estimate
    # is refunded, with a reason the buyer reads (and may take to support).
    Transition("decide_refund", frozenset({RequestKind.RETURN}),
               frozenset({Status.ACCEPTED, Status.SHIPPED_BACK, Status.RECEIVED}), Status.RECEIVED, ARTIST_SIDE,
               N_("Refund less: the item came back used, incomplete or damaged"), (REFUND_AMOUNT, REFUND_REASON),
               guard=_refund_not_started),
    Transition("initiate_refund", frozenset({RequestKind.RETURN}), frozenset({Status.RECEIVED}),
               Status.REFUND_INITIATED, ARTIST_SIDE, N_("Initiate the refund"), guard=_refund_retryable),
    # Only a return reaches "refund initiated": an exchange is converted first.
    Transition("confirm_refund", frozenset({RequestKind.RETURN}), frozenset({Status.REFUND_INITIATED}),
               Status.REFUNDED, frozenset({Role.SHOP, Role.SUPPORT}), N_("Confirm the refund was paid"),
               (OPTIONAL_NOTE,)),
    # Cancellation of an artist's part, before processing.
    Transition("refuse_order", frozenset({RequestKind.CANCELLATION}), frozenset({Status.REQUESTED}),
               Status.ORDER_REFUSED, ARTIST_SIDE, N_("Refuse the order (refund the buyer)"), (OPTIONAL_NOTE,),
               destructive=True, also_leads_to=frozenset({Status.CANCELLED})),
    Transition("decline", frozenset({RequestKind.CANCELLATION}), frozenset({Status.REQUESTED}),
               Status.DECLINED, ARTIST_SIDE, N_("Decline: already shipped"), (DECLINE_REASON,), destructive=True),
    Transition("withdraw", frozenset({RequestKind.CANCELLATION}), frozenset({Status.REQUESTED}),
               Status.WITHDRAWN, frozenset({Role.BUYER}), N_("Withdraw my request"), destructive=True),
    Transition("retry_refund", frozenset({RequestKind.CANCELLATION}), frozenset({Status.ORDER_REFUSED}), None,
               ARTIST_SIDE, N_("Retry the refund"), guard=_refund_retryable),
    Transition("confirm_refund", frozenset({RequestKind.CANCELLATION}), frozenset({Status.ORDER_REFUSED}),
               Status.REFUNDED, frozenset({Role.SHOP, Role.SUPPORT}), N_("Confirm the refund was paid"),
               (OPTIONAL_NOTE,)),
    # Anyone involved may ask the marketplace's team to step in.
    Transition("escalate", ALL_KINDS, frozenset(STATUS_LABELS) - FINAL_STATUSES, None,
               frozenset({Role.BUYER, Role.ARTIST}), N_("Ask the support team to step in"), (OPTIONAL_NOTE,),
               guard=_not_escalated),
    Transition("resolve_escalation", ALL_KINDS, frozenset(STATUS_LABELS), None, frozenset({Role.SUPPORT}),
               N_("Mark the support case as resolved"), (OPTIONAL_NOTE,), guard=_escalated),
)

#: The receipt's button when the buyer said the item was damaged or wrong.
RECEIVE_FAULTY_LABEL = N_("Product received")

#: A refusal's button where the shop is its own only seller, and where
#: nothing was paid (the buyer asked; the shop cancels).
CANCEL_LABEL = N_("Cancel the order (refund the buyer)")
CANCEL_UNPAID_LABEL = N_("Cancel the order (nothing was charged)")


def action_label(transition: Transition, request: Request) -> str:
    """The words of a step's button, translated."""
    if transition.action == "receive" and came_back_faulty(request):
        return _(RECEIVE_FAULTY_LABEL)
    if transition.action == "refuse_order":
        if not request.refund_total:
            return _(CANCEL_UNPAID_LABEL)
        if not words.is_marketplace():
            return _(CANCEL_LABEL)
    return _(transition.label)


#: The topics of a refusal (keys of the timeline's and the emails' words).
MARKETPLACE_REFUSAL, SINGLE_SELLER_REFUSAL, UNPAID_REFUSAL = (
    "refuse_order", "refuse_order:single", "refuse_order:unpaid")


def refusal_topic(to_status: str | None) -> str:
    """Which words tell of a refusal, for the timeline and the emails: an
    artist refused their part (``refuse_order``), a shop that sells alone
    cancelled (``refuse_order:single``), or nothing was paid
    (``refuse_order:unpaid``)."""
    if to_status == Status.CANCELLED:
        return UNPAID_REFUSAL
    return MARKETPLACE_REFUSAL if words.is_marketplace() else SINGLE_SELLER_REFUSAL


#: Actions whose effect calls the shop's refund hook after the commit.
REFUND_ACTIONS = frozenset({"initiate_refund", "refuse_order", "retry_refund"})


def find_transition(kind: str, action: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.action == action and kind in t.kinds), None)


def available_actions(user: User | None, request: Request) -> list[tuple[Transition, str]]:
    """The steps ``user`` may take on ``request`` now, with the role for each."""
    roles = roles_on(user, request)
    found = []
    for transition in TRANSITIONS:
        if request.kind not in transition.kinds or request.status not in transition.sources:
            continue
        role = next((r for r in roles if r in transition.roles), None)
        if role is None or (transition.guard and transition.guard(request)):
            continue
        found.append((transition, role))
    return found


# --------------------------------------------------------------------------- #
# Reading
# --------------------------------------------------------------------------- #


def session() -> Session:
    return current_state().session


def held_quantities(order_ref: str, line_refs: Sequence[str] | None = None) -> dict[str, int]:
    """Quantity under open or completed requests, per line of an order."""
    query = (
        sa.select(Request.line_ref, sa.func.sum(Request.quantity))
        .where(Request.order_ref == order_ref, Request.kind.in_(LINE_KINDS))
        .where(Request.status.not_in(RELEASING_STATUSES))
        .group_by(Request.line_ref)
    )
    if line_refs is not None:
        query = query.where(Request.line_ref.in_(line_refs))
    return {line_ref: int(total or 0) for line_ref, total in session().execute(query)}


def paid_left(order_ref: str, part: OrderPart) -> Decimal | None:
    """What the buyer paid for ``part`` less what its requests already refund
    (``None``: the shop says everything was paid)."""
    if part.paid is None:
        return None
    committed = session().scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Request.refund_total), 0))
        .where(Request.order_ref == order_ref, Request.artist_ref == part.artist_ref)
        .where(Request.status.not_in(RELEASING_STATUSES))
    )
    return max(part.paid - Decimal(str(committed or 0)), Decimal("0"))


def returnable_quantity(line: OrderLine, held: dict[str, int]) -> int:
    if not line.returnable:
        return 0
    return max(line.quantity - held.get(line.ref, 0), 0)


def return_block_reason(order: Order, part: OrderPart, line: OrderLine | None = None, *,
                        artist: Artist | None = None) -> str | None:
    """Why a return or exchange cannot be asked on this part now, if it cannot.

    ``artist`` (the part's artist) saves asking the shop again when the
    caller already has it.
    """
    if part.stage == Stage.PENDING:
        return _("This part of the order has not been processed yet: you can still ask to cancel it.")
    if part.stage == Stage.CANCELLED:
        return _("This part of the order was cancelled.")
    if line is not None and not line.returnable:
        return _("This item is a final sale: it cannot be returned or exchanged.")
    if artist is None:
        artist = current_state().adapter.get_artist(part.artist_ref)
    window = current_window(artist.policy.window_days).days if artist else None
    window_start = part.delivered_at or part.window_from
    if window is not None and window_start is not None:
        deadline = window_start + timedelta(days=window)
        if utcnow() > deadline:
            from flask_babel import format_date

            return ngettext("The return period of %(num)s day ended on %(date)s.",
                            "The return period of %(num)s days ended on %(date)s.", window,
                            date=format_date(deadline))
    return None


def cancel_block_reason(part: OrderPart) -> str | None:
    """Why a cancellation cannot be asked for this part, if it cannot."""
    if part.stage == Stage.CANCELLED:
        return _("This part of the order is already cancelled.")
    if part.stage != Stage.PENDING:
        return _("This part of the order has already been processed, so it can no longer be cancelled. "
                 "You can request a return instead.")
    return None


def open_cancellation(order_ref: str, artist_ref: str) -> Request | None:
    return session().scalar(
        sa.select(Request).where(
            Request.order_ref == order_ref,
            Request.artist_ref == artist_ref,
            Request.kind == RequestKind.CANCELLATION,
            Request.status.in_({Status.REQUESTED, Status.ORDER_REFUSED}),
        ).limit(1)
    )


# --------------------------------------------------------------------------- #
# Creating requests
# --------------------------------------------------------------------------- #


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
    photos: Sequence[object] = field(default_factory=tuple)
    submission_token: str | None = None


def _as_quantity(value: object) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number


def submit_return(user: User | None, order_ref: str, form: ReturnForm, *, commit: bool = True) -> Request:
    """Create a return or exchange request for one line of ``order_ref``."""
    state = current_state()
    return _in_transaction(commit, lambda: _submit_return(state, user, order_ref, form))


def clean_token(token: object) -> str | None:
    """A submission token as the form sent it, or ``None`` if it is not one of ours."""
    text = str(token or "")
    return text if 8 <= len(text) <= 48 and text.isalnum() else None


def _submit_return(state, user: User | None, order_ref: str, form: ReturnForm) -> Request:
    order = _buyer_order(state, user, order_ref)
    form.submission_token = clean_token(form.submission_token)
    if form.submission_token:
        existing = _by_token(form.submission_token, user)
        if existing is not None:
            return existing
    found = order.find_line(form.line_ref)
    if found is None:
        raise NotFound(_("This item is not part of the order."))
    part, line = found
    artist = _artist(state, part.artist_ref)
    blocked = return_block_reason(order, part, line, artist=artist)
    if blocked:
        raise NotAllowed(blocked)
    _check_rate(state, user)
    _check_photo_quota(state, user, Role.BUYER, len(form.photos))
    up_to_date = _lock_part(order.ref, part.artist_ref)
    # The second of two racing submits waits on the lock above and then finds
    # the first one's request here.
    if form.submission_token:
        existing = _by_token(form.submission_token, user, newest=not up_to_date)
        if existing is not None:
            return existing
    if not up_to_date:
        raise Conflict(_changed_meanwhile())

    errors: dict[str, str] = {}
    available = returnable_quantity(line, held_quantities(order.ref, [line.ref]))
    quantity = _as_quantity(form.quantity)
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
    reason = state.reasons.get(form.reason_code)
    if reason is None:
        errors["reason_code"] = _("Choose a reason from the list.")
    elif reason.photo_required and not form.photos:
        errors["photos"] = _("Attach at least one photo for the reason “%(reason)s”.", reason=reason.display)
    if len(form.photos) > state.config["MAX_PHOTOS"]:
        errors["photos"] = _("Attach at most %(most)s photos.", most=state.config["MAX_PHOTOS"])
    comment = visible_or_empty(form.comment)
    if len(comment) > state.config["MESSAGE_MAX_LENGTH"]:
        errors["comment"] = _("Keep the comment under %(most)s characters.", most=state.config["MESSAGE_MAX_LENGTH"])
    wanted_ref, wanted_label = None, None
    if form.kind == RequestKind.EXCHANGE:
        options = state.adapter.exchange_options(order.ref, line.ref)
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

    preview = preview_return(artist.policy, part, line, quantity, seller_fault=reason.seller_fault,
                             paid_left=paid_left(order.ref, part))
    now = utcnow()
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
        _store_photo(state, request, None, upload, Role.BUYER, user.ref)
    _record(request, "submit", None, Status.REQUESTED, Role.BUYER, user, comment or None)
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
) -> list[Request]:
    """Ask the artist(s) to cancel their part of an order before processing.

    ``artist_refs=None`` asks every artist whose part can still be cancelled:
    one request, with its own thread, per artist.
    """
    state = current_state()
    return _in_transaction(
        commit,
        lambda: _request_cancellation(state, user, order_ref, artist_refs, message, contact_email, submission_token),
    )


def _request_cancellation(state, user, order_ref, artist_refs, message, contact_email, token) -> list[Request]:
    order = _buyer_order(state, user, order_ref)
    token = clean_token(token)
    if token:
        existing = _cancellations_by_token(order, token, user)
        if existing:
            return existing
    errors: dict[str, str] = {}
    body = visible_or_empty(message)
    if not body:
        errors["message"] = _("Say why you would like to cancel.")
    elif len(body) > state.config["MESSAGE_MAX_LENGTH"]:
        errors["message"] = _("Keep the message under %(most)s characters.", most=state.config["MESSAGE_MAX_LENGTH"])
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
    _check_rate(state, user)

    # Artists new to the plugin are written in one order, whatever the form's,
    # so two cancellations naming the same artists cannot deadlock.
    artists = {part.artist_ref: _artist(state, part.artist_ref) for part in parts}
    for ref in sorted(artists):
        _remember_artist(artists[ref])
    created = []
    for index, part in enumerate(parts):
        up_to_date = _lock_part(order.ref, part.artist_ref)
        if token and index == 0:
            # A second post of the same form waited on the lock: answer with the first one's requests.
            existing = _cancellations_by_token(order, token, user, newest=not up_to_date)
            if existing:
                return existing
        if not up_to_date or cancel_block_reason(part) or open_cancellation(order.ref, part.artist_ref) is not None:
            raise Conflict(_("This order changed meanwhile; please look at it again."))
        artist = artists[part.artist_ref]
        preview = preview_cancellation(part, order.currency)
        now = utcnow()
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
        _record(request, "submit", None, Status.REQUESTED, Role.BUYER, user, None)
        _add_message(request, Role.BUYER, user, body)
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


# --------------------------------------------------------------------------- #
# Moving requests on
# --------------------------------------------------------------------------- #


def perform(
    user: User | None,
    request_id: int,
    action: str,
    *,
    version: int | None = None,
    note: str | None = None,
    tracking: str | None = None,
    amount: str | None = None,
    commit: bool = True,
) -> Request:
    """Take ``action`` on a request as ``user``, if the table allows it.

    ``version`` is the request version the user's page showed; a different
    current version means the page was stale and the step is refused.
    Refund steps always commit, because the shop's hook is called between two
    transactions.
    """
    state = current_state()
    if action in REFUND_ACTIONS or action == "confirm_refund":
        from . import refunds

        return refunds.perform_refund_step(state, user, request_id, action, version=version, note=note)
    request, _entry = _in_transaction(
        commit,
        lambda: _perform(state, user, request_id, action, version, note, tracking, amount),
    )
    return request


def change_status(request: Request, action: str, to_status: str, role: str, user: User | None,
                  note: str | None = None, *, amount: Decimal | None = None) -> HistoryEntry:
    """Move ``request`` to ``to_status`` and write its history row."""
    from_status = request.status
    request.status = to_status
    if to_status in FINAL_STATUSES:
        request.closed_at = utcnow()
    return _record(request, action, from_status, to_status, role, user, note, amount=amount)


def _perform(state, user, request_id, action, version, note, tracking, amount=None, *,
             actor_role: str | None = None):
    request, transition, role, values = check_step(state, user, request_id, action, version, note=note,
                                                   tracking=tracking, amount=amount, actor_role=actor_role)
    note = values.get("note")
    _apply_effect(state, request, transition, note, values.get("tracking"), amount=values.get("amount"))
    # A step that asks for an amount keeps it in its history row.
    decided = request.refund_decided_amount if "amount" in values else None
    return request, change_status(request, action, transition.leads_to(request), role, user, note, amount=decided)


def check_step(state, user, request_id, action, version, *, actor_role: str | None = None, **given):
    """Lock the request and check that ``user`` may take ``action`` now.

    Returns ``(request, transition, role, field values)``; raises with a
    message for the user otherwise.
    """
    request = lock_request(request_id)
    transition, role = _authorise(user, request, action, actor_role)
    if version is not None and _as_quantity(version) != request.version:
        raise Conflict(_("This request changed since you opened the page. Look at its new status and try again."))
    if request.status not in transition.sources:
        raise NotAllowed(_("This request is “%(status)s”: this step is not possible now.",
                           status=status_label(request.status, request.kind)))
    if transition.guard:
        blocked = transition.guard(request)
        if blocked:
            raise NotAllowed(blocked)
    return request, transition, role, _check_fields(state, transition, **given)


def _authorise(user, request, action, actor_role):
    roles = (actor_role,) if actor_role else roles_on(user, request)
    if not roles:
        raise NotFound(_("This request does not exist."))
    transition = find_transition(request.kind, action)
    if transition is None:
        raise NotAllowed(_("This step does not exist for this request."))
    role = next((r for r in roles if r in transition.roles), None)
    if role is None and not actor_role and acts_on_own_purchase(user, request):
        raise NotAllowed(_("You bought this order, so on this request you act only as its buyer: another "
                           "member of the team must take this step."))
    if role is None:
        raise NotAllowed(_("Only %(who)s can do this.", who=_roles_in_words(transition.roles)))
    return transition, role


def _apply_effect(state, request: Request, transition: Transition, note: str | None, tracking: str | None,
                  *, amount: str | None = None) -> None:
    action = transition.action
    if action == "accept":
        request.instructions = note
    elif action == "decline":
        request.decline_reason = note
    elif action == "ship_back":
        request.return_tracking = tracking
    elif action == "ship_replacement":
        request.replacement_tracking = tracking
    elif action == "convert_to_refund":
        request.kind = RequestKind.RETURN
        request.converted_from_exchange = True
    elif action == "decide_refund":
        # The guard may have read an older snapshot (MariaDB keeps one per
        # transaction): a refund started meanwhile is seen by a locking read.
        started = _refund_not_started(request, lock=True)
        if started:
            raise NotAllowed(started)
        request.refund_decided_amount = _decided_amount(request, amount)
        request.refund_decision_reason = note
    elif action == "escalate":
        request.escalated = True
    elif action == "resolve_escalation":
        request.escalated = False
    elif action == "refuse_order":
        order = state.adapter.get_order(request.order_ref)
        part = order.part(request.artist_ref) if order else None
        if part is None:
            raise NotFound(_("This order no longer exists in the shop."))
        blocked = cancel_block_reason(part)
        if blocked:
            raise NotAllowed(_("This order part was already processed: decline the cancellation and point "
                               "the buyer to a return."))
        _lock_part(request.order_ref, request.artist_ref)
        state.adapter.refuse_part(request.order_ref, request.artist_ref)
        if part.paid is not None:
            # Refund what is paid now: the buyer may have paid since asking.
            preview = preview_cancellation(part, request.currency)
            request.refund_items, request.refund_delivery = preview.items, preview.delivery
            request.refund_total = preview.total


def _decided_amount(request: Request, typed: str | None) -> Decimal:
    """The amount typed for a refund less than the estimate, or a message:
    a number, from zero up to the estimate (itself never above what was paid)."""
    most = request.refund_total
    amount = parse_amount(typed)
    if amount is None:
        raise ValidationError({"amount": _("Enter the amount as a number, such as 12.50.")})
    if amount < 0:
        raise ValidationError({"amount": _("The amount cannot be below zero.")})
    if amount > most:
        from flask_babel import format_currency

        raise ValidationError({"amount": _("You can refund at most %(most)s, the estimated refund.",
                                           most=format_currency(most, request.currency))})
    return amount


def _check_fields(state, transition: Transition, **given: str | None) -> dict[str, str | None]:
    errors, values = {}, {}
    for form_field in transition.fields:
        raw = visible_or_empty(given.get(form_field.name))
        most = form_field.max_length or state.config["MESSAGE_MAX_LENGTH"]
        if form_field.required and not raw:
            errors[form_field.name] = _("This field is required.")
        elif len(raw) > most:
            errors[form_field.name] = _("Keep this under %(most)s characters.", most=most)
        values[form_field.name] = raw or None
    if errors:
        raise ValidationError(errors)
    return values


def post_message(
    user: User | None,
    request_id: int,
    body: str,
    *,
    photos: Sequence[object] = (),
    commit: bool = True,
) -> Message:
    """Add a message (and photos) to a request's thread."""
    state = current_state()

    def work():
        request = lock_request(request_id)
        role, text = _checked_message(state, user, request, body, len(photos))
        message = _add_message(request, role, user, text)
        for upload in photos:
            _store_photo(state, request, message, upload, role, user.ref)
        queue_signal(signals.message_posted, request=request, message=message)
        return request, message

    _request, message = _in_transaction(commit, work)
    return message


def check_message(user: User | None, request_id: object, body: str, *, photo_count: int) -> None:
    """Raise what :func:`post_message` would refuse, without locking or writing.

    The reply box calls it before decoding any photo: who, which request,
    its status and the limits are all cheap to check, decoding is not.
    :func:`post_message` checks everything again under the row lock.
    """
    _checked_message(current_state(), user, find_request(request_id), body, photo_count)


def check_new_request(user: User, *, photo_count: int) -> None:
    """Raise if ``user`` may not send a request with ``photo_count`` photos
    now (the hourly rate, the photo quota), before any photo is decoded."""
    state = current_state()
    _check_rate(state, user)
    _check_photo_quota(state, user, Role.BUYER, photo_count)


def _checked_message(state, user: User | None, request: Request, body: str, photo_count: int) -> tuple[str, str]:
    """The author's role and the text of a message ``user`` may post, or raise."""
    roles = roles_on(user, request)
    if not roles:
        raise NotFound(_("This request does not exist."))
    role = roles[0]
    text = visible_or_empty(body)
    errors = {}
    if not text and not photo_count:
        errors["body"] = _("Write a message or attach a photo.")
    elif len(text) > state.config["MESSAGE_MAX_LENGTH"]:
        errors["body"] = _("Keep the message under %(most)s characters.", most=state.config["MESSAGE_MAX_LENGTH"])
    if photo_count > state.config["MAX_PHOTOS"]:
        errors["photos"] = _("Attach at most %(most)s photos.", most=state.config["MAX_PHOTOS"])
    if errors:
        raise ValidationError(errors)
    _check_thread_open(state, request, role)
    _check_message_rate(state, user, role)
    _check_photo_quota(state, user, role, photo_count)
    return role, text


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


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def lock_request(request_id: object) -> Request:
    """Load a request and lock its row until the transaction ends."""
    return find_request(request_id, lock=True)


def find_request(request_id: object, *, lock: bool = False) -> Request:
    """Load a request (and lock its row if asked), or raise ``NotFound``."""
    number = _as_quantity(request_id)
    # Beyond a 32-bit id the database would fail on the value, not answer "none".
    if number is None or not 0 < number < 2**31:
        raise NotFound(_("This request does not exist."))
    request = session().get(Request, number, with_for_update=lock or None, populate_existing=True)
    if request is None:
        raise NotFound(_("This request does not exist."))
    return request


def _lock_part(order_ref: str, artist_ref: str) -> bool:
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
    table = PartLock.__table__
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


def _record(request: Request, action: str, from_status: str | None, to_status: str, role: str,
            user: User | None, note: str | None, *, amount: Decimal | None = None, tell: bool = True) -> HistoryEntry:
    """Write the history row of a step and queue its emails (same transaction);
    ``tell=False`` when the step's earlier email already said it all."""
    now = utcnow()
    entry = HistoryEntry(
        request_id=request.id,
        action=action,
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
    _mark_actor_seen(request, role, now)
    session().add(entry)
    session().flush()
    if tell:
        notifications.queue_for_history(request, entry)
    if action == "submit":
        queue_signal(signals.request_created, request=request)
    else:
        queue_signal(signals.status_changed, request=request, entry=entry)
    return entry


def _add_message(request: Request, role: str, user: User, body: str) -> Message:
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
    _mark_actor_seen(request, role, now)
    session().add(message)
    session().flush()
    notifications.queue_for_message(request, message)
    return message


def _mark_actor_seen(request: Request, role: str, now: datetime) -> None:
    """Whoever acts has seen everything up to their own step: it is not unread for them."""
    if role == Role.BUYER:
        request.buyer_seen_at = now
    elif role == Role.ARTIST:
        request.artist_seen_at = now


def _store_photo(state, request: Request, message: Message | None, upload, role: str, ref: str) -> Photo:
    stored = state.photos.store(upload)
    discard_on_rollback(session(), state.photos.storage, (stored.key, stored.thumbnail_key))
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


def _buyer_order(state, user: User | None, order_ref: str) -> Order:
    if user is None:
        raise NotFound(_("This order does not exist."))
    order = order_of_buyer(state.adapter, str(order_ref), user.ref)
    if order is None:
        raise NotFound(_("This order does not exist."))
    return order


def _artist(state, artist_ref: str):
    artist = state.adapter.get_artist(artist_ref)
    if artist is None:
        raise NotFound(_("This artist no longer exists in the shop."))
    return artist


def _remember_artist(artist) -> None:
    """The artist, under the name the shop gives now, for the support list's filter.

    Read first: the row is written (and so locked until the commit) only for
    an artist's first request or after a change of name, so requests to one
    artist from different orders do not wait on each other.
    """
    name = artist.name[:255]
    values = {"ref": artist.ref, "name": name, "name_key": name.casefold()[:255]}
    table = RequestArtist.__table__
    known = session().execute(sa.select(table.c.name, table.c.name_key).where(table.c.ref == artist.ref)).first()
    if known is not None and tuple(known) == (values["name"], values["name_key"]):
        return
    upsert(session(), table, values, keys=("ref",),
           updates={"name": incoming("name"), "name_key": incoming("name_key")})


def _order_columns(order: Order, artist) -> dict[str, object]:
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


def _changed_meanwhile() -> str:
    return _("Someone else changed this at the same moment. Look at the page again and retry.")


def _check_rate(state, user: User) -> None:
    most = state.config["REQUESTS_PER_HOUR"]
    if not most:
        return
    since = utcnow() - timedelta(hours=1)
    count = session().scalar(
        sa.select(sa.func.count()).select_from(Request)
        .where(Request.buyer_ref == user.ref, Request.created_at >= since)
    )
    if count >= most:
        raise NotAllowed(_("You have sent many requests in the last hour. Please wait a little and try again."))


#: Roles held to the daily and per-thread limits. The marketplace's own team
#: answers many threads a day and must be able to write in any of them.
LIMITED_ROLES = frozenset({Role.BUYER, Role.ARTIST})


def _check_message_rate(state, user: User, role: str) -> None:
    most = state.config["MESSAGES_PER_MINUTE"]
    if most:
        since = utcnow() - timedelta(minutes=1)
        count = session().scalar(
            sa.select(sa.func.count()).select_from(Message)
            .where(Message.author_ref == user.ref, Message.author_role == role, Message.created_at >= since)
        )
        if count >= most:
            raise NotAllowed(_("You are sending messages very fast. Please wait a minute and try again."))
    most = state.config["MESSAGES_PER_DAY"]
    if most and role in LIMITED_ROLES:
        since = utcnow() - timedelta(days=1)
        count = session().scalar(
            sa.select(sa.func.count()).select_from(Message)
            .where(Message.author_ref == user.ref, Message.created_at >= since)
        )
        if count >= most:
            raise NotAllowed(ngettext("You have sent %(num)s message in the last 24 hours, the most allowed. "
                                      "Please write again tomorrow.",
                                      "You have sent %(num)s messages in the last 24 hours, the most allowed. "
                                      "Please write again tomorrow.", most))


def closed_thread_reason(request: Request, role: str) -> str | None:
    """Why ``role`` may no longer write in ``request``'s thread because it was
    closed too long ago (``MESSAGES_AFTER_CLOSING_DAYS``), or ``None``."""
    if role not in LIMITED_ROLES or request.closed_at is None:
        return None
    days = current_state().config["MESSAGES_AFTER_CLOSING_DAYS"]
    if utcnow() < request.closed_at + timedelta(days=days):
        return None
    return ngettext(
        "This request was closed more than %(num)s day ago: its thread takes no more messages. "
        "Contact the support team if you need help.",
        "This request was closed more than %(num)s days ago: its thread takes no more messages. "
        "Contact the support team if you need help.", days)


def _check_thread_open(state, request: Request, role: str) -> None:
    """A thread takes messages while the request is open, a grace period
    after it closed, and up to a number of messages (support: always)."""
    if role not in LIMITED_ROLES:
        return
    closed = closed_thread_reason(request, role)
    if closed:
        raise NotAllowed(closed)
    most = state.config["MESSAGES_PER_THREAD"]
    if most:
        count = session().scalar(sa.select(sa.func.count()).select_from(Message)
                                 .where(Message.request_id == request.id))
        if count >= most:
            raise NotAllowed(ngettext(
                "This thread has reached its limit of %(num)s message. Contact the support team if you need help.",
                "This thread has reached its limit of %(num)s messages. Contact the support team if you need help.",
                most))


def _check_photo_quota(state, user: User, role: str, count: int) -> None:
    most = state.config["PHOTOS_PER_DAY"]
    if not count or not most or role not in LIMITED_ROLES:
        return
    since = utcnow() - timedelta(days=1)
    sent = session().scalar(sa.select(sa.func.count()).select_from(Photo)
                            .where(Photo.uploaded_by_ref == user.ref, Photo.created_at >= since))
    if sent + count > most:
        left = max(most - sent, 0)
        raise NotAllowed(ngettext(
            "You can send %(num)s photo per 24 hours and have %(left)s left: attach fewer photos, "
            "or send them tomorrow.",
            "You can send %(num)s photos per 24 hours and have %(left)s left: attach fewer photos, "
            "or send them tomorrow.", most, left=left))


def _roles_in_words(roles: frozenset[str]) -> str:
    words = {Role.BUYER: _("the buyer"), Role.ARTIST: _("the artist"), Role.SUPPORT: _("the support team"),
             Role.SHOP: _("the shop")}
    ordered = [words[r] for r in (Role.BUYER, Role.ARTIST, Role.SUPPORT, Role.SHOP) if r in roles]
    return _(" or ").join(ordered)


#: Key in ``Session.info`` of the signals waiting for the commit.
PENDING_SIGNALS = "mirette_returns_signals"


def queue_signal(signal, **arguments) -> None:
    """Send ``signal`` (with the app as sender) once this transaction commits."""
    session().info.setdefault(PENDING_SIGNALS, []).append((signal, arguments))


def _in_transaction(commit: bool, work: Callable[[], object]):
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
        raise Conflict(_changed_meanwhile()) from error
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
