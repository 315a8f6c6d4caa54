"""What a step changes on the request besides its status: one function per
step that has an effect, named in the step's row (see :mod:`.steps`)."""

from __future__ import annotations

from decimal import Decimal

from ..amounts import money
from ..context import Context
from ..domain import RequestKind
from ..errors import NotAllowed, NotFound, ValidationError
from ..i18n import gettext as _
from ..models import Request
from ..money import parse_amount, preview_cancellation
from .reading import cancel_block_reason
from .refund_rules import refund_not_started
from .transaction import lock_part

#: The values of the fields a step asked for: ``note``, ``tracking``, ``amount``.
Values = dict[str, "str | None"]


def give_instructions(ctx: Context, request: Request, values: Values) -> None:
    request.instructions = values.get("note")


def give_decline_reason(ctx: Context, request: Request, values: Values) -> None:
    request.decline_reason = values.get("note")


def keep_return_tracking(ctx: Context, request: Request, values: Values) -> None:
    request.return_tracking = values.get("tracking")


def keep_replacement_tracking(ctx: Context, request: Request, values: Values) -> None:
    request.replacement_tracking = values.get("tracking")


def become_a_return(ctx: Context, request: Request, values: Values) -> None:
    request.kind = RequestKind.RETURN
    request.converted_from_exchange = True


def decide_amount(ctx: Context, request: Request, values: Values) -> None:
    # The guard may have read an older snapshot (MariaDB keeps one per
    # transaction): a refund started meanwhile is seen by a locking read.
    started = refund_not_started(request, lock=True)
    if started:
        raise NotAllowed(started)
    request.refund_decided_amount = decided_amount(request, values.get("amount"))
    request.refund_decision_reason = values.get("note")


def call_support(ctx: Context, request: Request, values: Values) -> None:
    request.escalated = True


def close_support_case(ctx: Context, request: Request, values: Values) -> None:
    request.escalated = False


def refuse_part(ctx: Context, request: Request, values: Values) -> None:
    """The shop cancels the artist's part; what is paid now is what is refunded."""
    order = ctx.adapter.get_order(request.order_ref)
    part = order.part(request.artist_ref) if order else None
    if part is None:
        raise NotFound(_("This order no longer exists in the shop."))
    blocked = cancel_block_reason(part)
    if blocked:
        raise NotAllowed(_("This order part was already processed: decline the cancellation and point "
                           "the buyer to a return."))
    lock_part(request.order_ref, request.artist_ref)
    ctx.adapter.refuse_part(request.order_ref, request.artist_ref)
    if part.paid is not None:
        # Refund what is paid now: the buyer may have paid since asking.
        preview = preview_cancellation(part, request.currency)
        request.refund_items, request.refund_delivery = preview.items, preview.delivery
        request.refund_total = preview.total


def decided_amount(request: Request, typed: str | None) -> Decimal:
    """The amount typed for a refund less than the estimate, or a message:
    a number, from zero up to the estimate (itself never above what was paid)."""
    most = request.refund_total
    amount = parse_amount(typed)
    if amount is None:
        raise ValidationError({"amount": _("Enter the amount as a number, such as 12.50.")})
    if amount < 0:
        raise ValidationError({"amount": _("The amount cannot be below zero.")})
    if amount > most:
        raise ValidationError({"amount": _("You can refund at most %(most)s, the estimated refund.",
                                           most=money(most, request.currency))})
    return amount
