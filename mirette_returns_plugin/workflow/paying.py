"""Refund steps: at most one refund per request, never paid twice.

A refund step runs in three parts:

1. in one transaction, the step is checked, the refund row and its
   idempotency key are stored (and, for a cancellation, the order part is
   refused through the shop);
2. outside any transaction, the shop's ``initiate_refund`` hook is called with
   that key;
3. in a second transaction, the answer is recorded: the status moves on, or
   the refund is marked failed, visible and retryable with the same key.

A crash between 1 and 3 leaves a pending refund that may be retried after
``MIRETTE_RETURNS_REFUND_RETRY_AFTER`` seconds; the shop sees the same key
again and must not pay twice.
"""

from __future__ import annotations

import secrets
from typing import cast

import sqlalchemy as sa

from .. import signals
from ..adapter import RefundOrder, RefundResult, User
from ..context import Context, current_context
from ..domain import RequestKind, Role, Status
from ..errors import AdapterError, Conflict, NotAllowed, NotFound
from ..i18n import gettext as _
from ..models import Refund, RefundState, Request
from ..money import minor_unit
from .checking import check_step
from .records import change_status, record
from .refund_rules import refund_of, retry_block_reason
from .steps import INITIATE_REFUND, REFUND_FAILED, REFUND_INITIATED, TRANSITIONS, Transition, confirm_refund_row
from .transaction import lock_request, queue_signal, transaction

#: Steps that record by hand that the shop paid.
CONFIRMING_ACTIONS = frozenset(t.action for t in TRANSITIONS if t.confirms_payment)


def perform_refund_step(ctx: Context, user: User | None, request_id: object, action: str, *,
                        version: int | str | None = None, note: str | None = None) -> Request:
    """Run a step that pays money (refuse an order, initiate or retry a
    refund), or that records by hand that the shop paid."""
    if action in CONFIRMING_ACTIONS:
        def confirm_by_hand() -> tuple[Request, Refund]:
            request, _t, role, values = check_step(ctx, user, request_id, action, version, note=note)
            return _complete(ctx, request, refund_of(request, lock=True), role, user, values.get("note"))

        request, _refund = transaction(confirm_by_hand)
        return request

    checked: list[Transition] = []

    def prepare() -> tuple[int, str, RefundOrder | None]:
        request, transition, role, values = check_step(ctx, user, request_id, action, version, note=note)
        checked.append(transition)
        if transition.effect is not None:
            transition.effect(ctx, request, values)
        if transition.moves_before_paying:
            if request.refund_total <= 0:
                # Nothing was charged: the part is cancelled and nobody is asked to refund.
                change_status(request, transition, Status.CANCELLED, role, user, values.get("note"))
                return request.id, role, None
            change_status(request, transition, transition.leads_to(request), role, user, values.get("note"))
        # The guard may have read an older snapshot (MariaDB reads one per
        # transaction): look again at the locked row, so that two clicks
        # never both ask the shop.
        refund = refund_of(request, lock=True)
        if transition.guard is not None:
            blocked = retry_block_reason(request, refund, context=ctx)
            if blocked:
                raise NotAllowed(blocked)
        if refund is None:
            # The amount decided when less than the estimate is paid, and
            # the estimate and the reason beside it: once stored, a retry
            # asks the same amount again under the same key.
            refund = Refund(
                request_id=request.id,
                idempotency_key=f"mr-{request.id}-{secrets.token_hex(8)}",
                amount=request.refund_amount,
                estimated_amount=request.refund_total,
                decision_reason=request.refund_decision_reason,
                currency=request.currency,
                attempts=0,
            )
            ctx.session.add(refund)
            if refund.amount <= 0:
                # Nothing to pay (the artist decided on nothing back): the
                # shop is not asked, and the refund is complete at once.
                ctx.session.flush()
                _complete(ctx, request, refund, role, user, None)
                return request.id, role, None
        refund.state = RefundState.PENDING
        refund.attempts += 1
        refund.attempted_at = ctx.now()
        ctx.session.flush()
        return request.id, role, _refund_order(request, refund)

    request_id, role, order = transaction(prepare)
    if order is None:
        # Session.get_one needs SQLAlchemy 2.0.22; the floor is 2.0.16.
        done = ctx.session.get(Request, request_id)
        assert done is not None, "the request was committed just before"
        return done
    try:
        result = ctx.adapter.initiate_refund(order)
        error = None
    except AdapterError as failure:
        result, error = None, failure.message
    except Exception as failure:  # the shop's hook is outside our control
        # The error's type and message only: no idempotency key (it starts a
        # refund), no traceback of the shop's code (paths, values, secrets).
        ctx.app.logger.error("mirette-returns: the shop's refund hook failed for request %s: %s: %s",
                               request_id, type(failure).__name__, failure)
        result, error = None, _("The shop could not start the refund (%(error)s).", error=type(failure).__name__)
    # A step whose email already said a refund is on its way (a refusal):
    # the shop's first answer is not news to the buyer.
    announced = checked[-1].announces_refund
    return _record_answer(ctx, user, role, request_id, order.idempotency_key, result, error, announced=announced)



def _record_answer(ctx: Context, user: User | None, role: str, request_id: int, key: str,
                   result: RefundResult | None, error: str | None, *, announced: bool = False) -> Request:
    def write() -> Request:
        request = lock_request(request_id)
        # The row was stored under this key before the shop was asked.
        refund = ctx.session.scalars(
            sa.select(Refund).where(Refund.idempotency_key == key).with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if refund.state == RefundState.COMPLETED:
            return request  # the shop confirmed from inside its hook
        if error is not None:
            refund.state = RefundState.FAILED
            refund.last_error = error
            record(request, REFUND_FAILED, request.status, request.status, role, user, error)
            return request
        refund.shop_reference = (result.reference or None) if result else None
        if refund.state != RefundState.INITIATED:
            _initiated(request, refund, role, user, announced=announced)
        if result and result.completed:
            _complete(ctx, request, refund, Role.SHOP, None, None)
        return request

    request = transaction(write)
    if error is not None:
        raise AdapterError(_("The refund could not be initiated: %(error)s Nothing was paid; you can retry.",
                             error=error))
    return request


def _initiated(request: Request, refund: Refund, role: str, user: User | None, *, announced: bool = False) -> None:
    """The shop accepted the refund order: record it and tell the listeners
    (``announced``: the step that asked for it told the buyer already)."""
    refund.state = RefundState.INITIATED
    if request.kind == RequestKind.CANCELLATION:
        record(request, REFUND_INITIATED, request.status, request.status, role, user, None, tell=not announced)
    elif request.status != Status.REFUND_INITIATED:
        change_status(request, INITIATE_REFUND, Status.REFUND_INITIATED, role, user)
    queue_signal(signals.refund_initiated, request=request, refund=refund)


def _complete(ctx: Context, request: Request, refund: Refund | None, role: str, user: User | None,
              note: str | None) -> tuple[Request, Refund]:
    if refund is None:
        raise Conflict(_("No refund was initiated for this request."))
    if refund.state != RefundState.COMPLETED:
        if refund.state != RefundState.INITIATED:
            _initiated(request, refund, role, user)
        refund.state = RefundState.COMPLETED
        refund.completed_at = ctx.now()
        change_status(request, confirm_refund_row(request.kind), Status.REFUNDED, role, user, note)
        queue_signal(signals.refund_confirmed, request=request, refund=refund)
    return request, refund


def confirm_refund(idempotency_key: str, reference: str | None = None, *, context: Context | None = None) -> Request:
    """Called by the shop once the money has moved. Safe to call twice.

    Moves the request to "Refunded" and emails the buyer.
    """
    ctx = current_context(context)

    def confirm() -> Request:
        refund = ctx.session.scalar(sa.select(Refund).where(Refund.idempotency_key == idempotency_key))
        if refund is None:
            raise NotFound(_("No refund has this key."))
        request = lock_request(refund.request_id)
        # Under the request's lock, read the newest row: a confirmation that
        # raced this one may have completed it already.
        ctx.session.refresh(refund, with_for_update=True)
        if refund.state == RefundState.COMPLETED:
            return request
        if reference:
            refund.shop_reference = reference[:255]
        _complete(ctx, request, refund, Role.SHOP, None, None)
        return request

    return transaction(confirm)


def _refund_order(request: Request, refund: Refund) -> RefundOrder:
    # A return or an exchange always names its line; a cancellation has none.
    lines = (() if request.kind == RequestKind.CANCELLATION
             else ((cast(str, request.line_ref), request.quantity),))
    kind = "exchange" if request.converted_from_exchange else request.kind
    return RefundOrder(
        idempotency_key=refund.idempotency_key,
        order_ref=request.order_ref,
        artist_ref=request.artist_ref,
        # The column keeps four decimals for every currency; the shop gets the
        # amount in the currency's own minor unit (25.38 EUR, 2540 JPY).
        amount=refund.amount.quantize(minor_unit(refund.currency)),
        currency=refund.currency,
        lines=lines,
        kind=kind,
    )
