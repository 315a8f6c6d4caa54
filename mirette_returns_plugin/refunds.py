"""Refunds: at most one per request, never paid twice.

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
from datetime import timedelta

import sqlalchemy as sa

from . import signals
from .access import Role
from .adapter import RefundOrder, RefundResult
from .errors import AdapterError, Conflict, NotAllowed, NotFound
from .i18n import gettext as _
from .money import minor_unit
from .models import Refund, RefundState, Request, RequestKind, utcnow
from .state import current_state


def refund_of(request: Request, *, lock: bool = False) -> Refund | None:
    """The refund of ``request``; ``lock`` reads the newest row and locks it."""
    query = sa.select(Refund).where(Refund.request_id == request.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return current_state().session.scalar(query)


def retry_block_reason(request: Request, refund: Refund | None = None, *, lock: bool = False) -> str | None:
    """Why a refund cannot be (re)started now, if it cannot."""
    if refund is None:
        refund = refund_of(request, lock=lock)
    if refund is None:
        if request.kind == RequestKind.CANCELLATION:
            return _("There is no refund to retry.")
        return None
    if refund.state in (RefundState.INITIATED, RefundState.COMPLETED):
        return _("The refund has already been initiated.")
    if refund.state == RefundState.PENDING:
        wait = current_state().config["REFUND_RETRY_AFTER"]
        if refund.attempted_at and utcnow() - refund.attempted_at < timedelta(seconds=wait):
            return _("The refund is being initiated; its result will show here shortly.")
    return None


def perform_refund_step(state, user, request_id, action, *, version=None, note=None):
    """Run a step that pays money: refuse an order, initiate or retry a refund,
    or (support) confirm a refund by hand."""
    from .workflow import Status, _apply_effect, _in_transaction, change_status, check_step

    if action == "confirm_refund":
        def confirm_by_hand():
            request, _t, role, values = check_step(state, user, request_id, action, version, note=note)
            return _complete(state, request, refund_of(request, lock=True), role, user, values.get("note"))

        request, _refund = _in_transaction(True, confirm_by_hand)
        return request

    def prepare():
        request, transition, role, values = check_step(state, user, request_id, action, version, note=note)
        if action == "refuse_order":
            _apply_effect(state, request, transition, values.get("note"), None)
            if request.refund_total <= 0:
                # Nothing was charged: the part is cancelled and nobody is asked to refund.
                change_status(request, action, Status.CANCELLED, role, user, values.get("note"))
                return request.id, role, None
            change_status(request, action, transition.leads_to(request), role, user, values.get("note"))
        # The guard may have read an older snapshot (MariaDB reads one per
        # transaction): look again at the locked row, so that two clicks
        # never both ask the shop.
        refund = refund_of(request, lock=True)
        if transition.guard is not None:
            blocked = retry_block_reason(request, refund)
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
            state.session.add(refund)
            if refund.amount <= 0:
                # Nothing to pay (the artist decided on nothing back): the
                # shop is not asked, and the refund is complete at once.
                state.session.flush()
                _complete(state, request, refund, role, user, None)
                return request.id, role, None
        refund.state = RefundState.PENDING
        refund.attempts += 1
        refund.attempted_at = utcnow()
        state.session.flush()
        return request.id, role, _refund_order(request, refund)

    request_id, role, order = _in_transaction(True, prepare)
    if order is None:
        return state.session.get(Request, request_id)
    try:
        result = state.adapter.initiate_refund(order)
        error = None
    except AdapterError as failure:
        result, error = None, failure.message
    except Exception as failure:  # the shop's hook is outside our control
        # The error's type and message only: no idempotency key (it starts a
        # refund), no traceback of the shop's code (paths, values, secrets).
        state.app.logger.error("mirette-returns: the shop's refund hook failed for request %s: %s: %s",
                               request_id, type(failure).__name__, failure)
        result, error = None, _("The shop could not start the refund (%(error)s).", error=type(failure).__name__)
    # A refusal's own email already told the buyer a refund is being
    # initiated: its first answer is not news to them.
    announced = action == "refuse_order"
    return _record_answer(state, user, role, request_id, order.idempotency_key, result, error, announced=announced)


def _record_answer(state, user, role, request_id, key, result: RefundResult | None, error: str | None, *,
                   announced: bool = False):
    from .workflow import _in_transaction, _record, lock_request

    def record():
        request = lock_request(request_id)
        refund = state.session.scalar(
            sa.select(Refund).where(Refund.idempotency_key == key).with_for_update()
            .execution_options(populate_existing=True)
        )
        if refund.state == RefundState.COMPLETED:
            return request  # the shop confirmed from inside its hook
        if error is not None:
            refund.state = RefundState.FAILED
            refund.last_error = error
            _record(request, "refund_failed", request.status, request.status, role, user, error)
            return request
        refund.shop_reference = (result.reference or None) if result else None
        if refund.state != RefundState.INITIATED:
            _initiated(request, refund, role, user, announced=announced)
        if result and result.completed:
            _complete(state, request, refund, Role.SHOP, None, None)
        return request

    request = _in_transaction(True, record)
    if error is not None:
        raise AdapterError(_("The refund could not be initiated: %(error)s Nothing was paid; you can retry.",
                             error=error))
    return request


def _initiated(request: Request, refund: Refund, role: str, user, *, announced: bool = False) -> None:
    """The shop accepted the refund order: record it and tell the listeners
    (``announced``: the step that asked for it told the buyer already)."""
    from .workflow import queue_signal

    refund.state = RefundState.INITIATED
    _mark_initiated(request, role, user, announced=announced)
    queue_signal(signals.refund_initiated, request=request, refund=refund)


def _mark_initiated(request: Request, role: str, user, *, announced: bool = False) -> None:
    from .workflow import Status, _record, change_status

    if request.kind == RequestKind.CANCELLATION:
        _record(request, "refund_initiated", request.status, request.status, role, user, None, tell=not announced)
    elif request.status != Status.REFUND_INITIATED:
        change_status(request, "initiate_refund", Status.REFUND_INITIATED, role, user)


def _complete(state, request: Request, refund: Refund | None, role: str, user, note):
    from .workflow import Status, change_status, queue_signal

    if refund is None:
        raise Conflict(_("No refund was initiated for this request."))
    if refund.state != RefundState.COMPLETED:
        if refund.state != RefundState.INITIATED:
            _initiated(request, refund, role, user)
        refund.state = RefundState.COMPLETED
        refund.completed_at = utcnow()
        change_status(request, "confirm_refund", Status.REFUNDED, role, user, note)
        queue_signal(signals.refund_confirmed, request=request, refund=refund)
    return request, refund


def confirm_refund(idempotency_key: str, reference: str | None = None) -> Request:
    """Called by the shop once the money has moved. Safe to call twice.

    Moves the request to "Refunded" and emails the buyer.
    """
    from .workflow import _in_transaction, lock_request

    state = current_state()

    def confirm():
        refund = state.session.scalar(sa.select(Refund).where(Refund.idempotency_key == idempotency_key))
        if refund is None:
            raise NotFound(_("No refund has this key."))
        request = lock_request(refund.request_id)
        # Under the request's lock, read the newest row: a confirmation that
        # raced this one may have completed it already.
        state.session.refresh(refund, with_for_update=True)
        if refund.state == RefundState.COMPLETED:
            return request
        if reference:
            refund.shop_reference = reference[:255]
        _complete(state, request, refund, Role.SHOP, None, None)
        return request

    return _in_transaction(True, confirm)


def _refund_order(request: Request, refund: Refund) -> RefundOrder:
    lines = () if request.kind == RequestKind.CANCELLATION else ((request.line_ref, request.quantity),)
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
