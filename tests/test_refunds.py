"""Refunds: at most one per request, its key stored before the shop is asked,
reused on every retry, and a failure left visible and retryable.

The shop's refund hook is the demo adapter's own (it writes a row per key in
the demo's payments table), except where a payment provider must fail: there
``flows.FailingPaymentShop`` stands in for it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import confirm_refund, workflow
from mirette_returns_plugin.adapter import RefundOrder, RefundResult
from mirette_returns_plugin.demo.models import PaymentRefund, db
from mirette_returns_plugin.errors import AdapterError, NotAllowed, NotFound
from mirette_returns_plugin.models import HistoryEntry, Refund, RefundState, RequestKind
from mirette_returns_plugin.state import current_state
from mirette_returns_plugin.workflow import Status
from tests import flows
from tests.shop import LUNE, SUPPORT, line_ref, order_ref


def received_return(kind: str = RequestKind.RETURN, quantity: int = 1) -> int:
    """A return whose item came back: the artist may now initiate the refund."""
    request_id = flows.submit_line(kind, quantity=quantity).id
    flows.take(LUNE, request_id, "accept")
    flows.take(LUNE, request_id, "receive")
    return request_id


def shop_refund_rows() -> list[PaymentRefund]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(PaymentRefund).order_by(PaymentRefund.id)))


def actions(request_id: int) -> list[tuple[str, str, str, str]]:
    return [(h.action, h.from_status, h.to_status, h.actor_role) for h in flows.history(request_id)]


class KeyWitnessShop(flows.RecordingShop):
    """Looks, from inside its hook, for the refund row on a connection of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple] = []

    def initiate_refund(self, refund: RefundOrder) -> RefundResult:
        with db.engine.connect() as other:
            self.seen.append(tuple(other.execute(
                sa.select(Refund.idempotency_key, Refund.state, Refund.amount, Refund.attempts)
                .where(Refund.idempotency_key == refund.idempotency_key)
            ).one()))
        return super().initiate_refund(refund)


def test_key_is_committed_before_the_shop_is_asked(ctx):
    request_id = received_return()
    with flows.shop_refunds(KeyWitnessShop()) as shop:
        flows.take(LUNE, request_id, "initiate_refund")
    [order] = shop.calls
    assert shop.seen == [(order.idempotency_key, RefundState.PENDING, Decimal("25.38"), 1)]
    assert order == RefundOrder(
        idempotency_key=order.idempotency_key, order_ref=order_ref("MIR-1004"), artist_ref=order.artist_ref,
        amount=Decimal("25.38"), currency="EUR", lines=((line_ref("MIR-1004", "Speckled mug"), 1),), kind="return",
    )
    refund = flows.refund_row(request_id)
    assert (refund.idempotency_key, refund.state, refund.shop_reference) == (
        order.idempotency_key, RefundState.INITIATED, f"demo-refund-{shop_refund_rows()[0].id}")
    assert flows.fresh(request_id).status == Status.REFUND_INITIATED
    assert actions(request_id)[-1] == ("initiate_refund", Status.RECEIVED, Status.REFUND_INITIATED, "artist")


@pytest.mark.parametrize("error,shown", [
    (AdapterError("The payment provider is not answering."), "The payment provider is not answering."),
    (RuntimeError("socket closed"), "The shop could not start the refund (RuntimeError)."),
])
def test_a_failing_hook_leaves_a_visible_retryable_refund(ctx, error, shown):
    request_id = received_return()
    with flows.shop_refunds(flows.FailingPaymentShop(error)) as provider, pytest.raises(AdapterError) as failed:
        flows.take(LUNE, request_id, "initiate_refund")
    assert failed.value.message == (
        f"The refund could not be initiated: {shown} Nothing was paid; you can retry.")
    [first] = provider.calls
    request = flows.fresh(request_id)
    assert request.status == Status.RECEIVED
    refund = flows.refund_row(request_id)
    assert (refund.idempotency_key, refund.state, refund.last_error, refund.attempts) == (
        first.idempotency_key, RefundState.FAILED, shown, 1)
    last = flows.history(request_id)[-1]
    assert (last.action, last.from_status, last.to_status, last.note) == (
        "refund_failed", Status.RECEIVED, Status.RECEIVED, shown)
    # The artist is offered the retry; the buyer is not.
    offered = [t.action for t, _r in workflow.available_actions(flows.as_user(LUNE), request)]
    assert "initiate_refund" in offered

    # A second failure keeps the same key ...
    with flows.shop_refunds(flows.FailingPaymentShop(error)) as provider, pytest.raises(AdapterError):
        flows.take(LUNE, request_id, "initiate_refund")
    assert [o.idempotency_key for o in provider.calls] == [first.idempotency_key]
    # ... and so does the retry that works.
    with flows.shop_refunds(flows.RecordingShop()) as shop:
        flows.take(LUNE, request_id, "initiate_refund")
    assert [o.idempotency_key for o in shop.calls] == [first.idempotency_key]
    refund = flows.refund_row(request_id)
    assert (refund.state, refund.attempts) == (RefundState.INITIATED, 3)
    assert [r.idempotency_key for r in shop_refund_rows()] == [first.idempotency_key]
    assert flows.fresh(request_id).status == Status.REFUND_INITIATED
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 1


def test_shop_confirms_with_the_key_and_a_second_confirmation_is_harmless(ctx):
    request_id = received_return()
    flows.take(LUNE, request_id, "initiate_refund")
    key = flows.refund_row(request_id).idempotency_key
    confirm_refund(key, "PSP-998877")
    confirm_refund(key, "PSP-998877")
    confirm_refund(key)
    request = flows.fresh(request_id)
    assert request.status == Status.REFUNDED and request.closed_at is not None
    refund = flows.refund_row(request_id)
    assert (refund.state, refund.shop_reference) == (RefundState.COMPLETED, "PSP-998877")
    assert refund.completed_at.tzinfo is not None
    assert [a for a in actions(request_id) if a[0] == "confirm_refund"] == [
        ("confirm_refund", Status.REFUND_INITIATED, Status.REFUNDED, "shop")]


@pytest.mark.parametrize("key", ["", "mr-0-unknown", "x" * 500])
def test_confirming_an_unknown_key_is_refused(ctx, key):
    with pytest.raises(NotFound) as refused:
        confirm_refund(key, "PSP-1")
    assert refused.value.message == "No refund has this key."


class PaidAtOnceShop(flows.RecordingShop):
    def initiate_refund(self, refund: RefundOrder) -> RefundResult:
        super().initiate_refund(refund)
        return RefundResult(reference="PSP-instant", completed=True)


def test_a_refund_paid_at_once_goes_straight_to_refunded(ctx):
    request_id = received_return()
    with flows.shop_refunds(PaidAtOnceShop()):
        flows.take(LUNE, request_id, "initiate_refund")
    assert flows.fresh(request_id).status == Status.REFUNDED
    assert actions(request_id)[-2:] == [
        ("initiate_refund", Status.RECEIVED, Status.REFUND_INITIATED, "artist"),
        ("confirm_refund", Status.REFUND_INITIATED, Status.REFUNDED, "shop"),
    ]
    refund = flows.refund_row(request_id)
    assert (refund.state, refund.shop_reference) == (RefundState.COMPLETED, "PSP-instant")


def test_support_can_confirm_by_hand_but_the_artist_cannot(ctx):
    request_id = received_return()
    flows.take(LUNE, request_id, "initiate_refund")
    with pytest.raises(NotAllowed):
        flows.take(LUNE, request_id, "confirm_refund")
    flows.take(SUPPORT, request_id, "confirm_refund", note="Paid by bank transfer on Monday.")
    assert flows.fresh(request_id).status == Status.REFUNDED
    assert flows.refund_row(request_id).state == RefundState.COMPLETED
    last = flows.history(request_id)[-1]
    assert (last.action, last.actor_role, last.note) == (
        "confirm_refund", "support", "Paid by bank transfer on Monday.")
    # The shop's late confirmation changes nothing.
    confirm_refund(flows.refund_row(request_id).idempotency_key, "PSP-late")
    assert len([a for a in actions(request_id) if a[0] == "confirm_refund"]) == 1


class ConfirmsInsideItsHookShop(flows.RecordingShop):
    def initiate_refund(self, refund: RefundOrder) -> RefundResult:
        super().initiate_refund(refund)
        confirm_refund(refund.idempotency_key, "PSP-sync")
        return RefundResult(reference="PSP-sync", completed=False)


def test_the_shop_may_confirm_from_inside_its_hook(ctx):
    request_id = received_return()
    with flows.shop_refunds(ConfirmsInsideItsHookShop()):
        flows.take(LUNE, request_id, "initiate_refund")
    assert flows.fresh(request_id).status == Status.REFUNDED
    assert flows.refund_row(request_id).state == RefundState.COMPLETED
    assert actions(request_id)[-2:] == [
        ("initiate_refund", Status.RECEIVED, Status.REFUND_INITIATED, "shop"),
        ("confirm_refund", Status.REFUND_INITIATED, Status.REFUNDED, "shop"),
    ]


class DoubleClickShop(flows.RecordingShop):
    """While the shop works on the first refund, the artist clicks again."""

    def __init__(self, request_id: int) -> None:
        super().__init__()
        self.request_id = request_id
        self.second: Exception | None = None

    def initiate_refund(self, refund: RefundOrder) -> RefundResult:
        try:
            flows.take(LUNE, self.request_id, "initiate_refund")
        except NotAllowed as refused:
            self.second = refused
        return super().initiate_refund(refund)


def test_a_second_initiate_is_refused_while_the_first_is_pending(ctx):
    request_id = received_return()
    with flows.shop_refunds(DoubleClickShop(request_id)) as shop:
        flows.take(LUNE, request_id, "initiate_refund")
    assert len(shop.calls) == 1
    assert shop.second is not None
    assert shop.second.message == "The refund is being initiated; its result will show here shortly."
    assert len(shop_refund_rows()) == 1
    # Once initiated, a third click is refused too.
    with pytest.raises(NotAllowed) as refused:
        flows.take(LUNE, request_id, "initiate_refund")
    assert "not possible now" in refused.value.message


class ProcessDied(BaseException):
    """The web worker was killed while the shop was being asked."""


def test_a_refund_whose_answer_was_lost_can_be_retried_later_with_the_same_key(ctx):
    request_id = received_return()
    with flows.shop_refunds(flows.FailingPaymentShop(ProcessDied())) as provider, pytest.raises(ProcessDied):
        flows.take(LUNE, request_id, "initiate_refund")
    [lost] = provider.calls
    refund = flows.refund_row(request_id)
    assert (refund.state, refund.idempotency_key) == (RefundState.PENDING, lost.idempotency_key)
    assert flows.fresh(request_id).status == Status.RECEIVED
    with pytest.raises(NotAllowed) as refused:
        flows.take(LUNE, request_id, "initiate_refund")
    assert refused.value.message == "The refund is being initiated; its result will show here shortly."
    # After MIRETTE_RETURNS_REFUND_RETRY_AFTER seconds, the artist may try again.
    wait = current_state().config["REFUND_RETRY_AFTER"]
    refund.attempted_at = refund.attempted_at - timedelta(seconds=wait + 1)
    db.session.commit()
    with flows.shop_refunds(flows.RecordingShop()) as shop:
        flows.take(LUNE, request_id, "initiate_refund")
    assert [o.idempotency_key for o in shop.calls] == [lost.idempotency_key]
    assert flows.fresh(request_id).status == Status.REFUND_INITIATED


def test_an_exchange_converted_to_a_refund_is_refunded_as_such(ctx):
    request_id = flows.submit_line(RequestKind.EXCHANGE, quantity=2).id
    flows.take(LUNE, request_id, "accept")
    flows.take(LUNE, request_id, "convert_to_refund", note="The Moss colour is sold out.")
    flows.take(LUNE, request_id, "receive")
    request = flows.fresh(request_id)
    assert (request.kind, request.converted_from_exchange) == (RequestKind.RETURN, True)
    with flows.shop_refunds(flows.RecordingShop()) as shop:
        flows.take(LUNE, request_id, "initiate_refund")
    [order] = shop.calls
    assert (order.kind, order.amount, order.lines) == ("exchange", Decimal("50.76"),
                                                       ((line_ref("MIR-1004", "Speckled mug"), 2),))


# --------------------------------------------------------------------------- #
# Cancellation: the order is refused and the refund initiated at once
# --------------------------------------------------------------------------- #


def test_refusing_the_order_cancels_the_part_and_initiates_the_refund(ctx):
    request_id = flows.submit_cancellation().id
    with flows.shop_refunds(flows.RecordingShop()) as shop:
        flows.take(LUNE, request_id, "refuse_order", note="")
    [order] = shop.calls
    assert (order.amount, order.lines, order.kind) == (Decimal("64.90"), (), "cancellation")
    assert flows.shipment_state("MIR-1002", LUNE) == "cancelled"
    assert flows.fresh(request_id).status == Status.ORDER_REFUSED
    assert flows.refund_row(request_id).state == RefundState.INITIATED
    assert actions(request_id)[-2:] == [
        ("refuse_order", Status.REQUESTED, Status.ORDER_REFUSED, "artist"),
        ("refund_initiated", Status.ORDER_REFUSED, Status.ORDER_REFUSED, "artist"),
    ]
    confirm_refund(order.idempotency_key, "PSP-42")
    assert flows.fresh(request_id).status == Status.REFUNDED


class RefusesThenFailsShop(flows.RecordingShop):
    """Writes the refusal in the shop's tables, then finds it cannot refuse."""

    def refuse_part(self, order_ref: str, artist_ref: str) -> None:
        super().refuse_part(order_ref, artist_ref)
        raise AdapterError("The warehouse has already picked this parcel.")


def test_refuse_part_runs_in_the_same_transaction(ctx):
    request_id = flows.submit_cancellation().id
    before = flows.snapshot(request_id)
    with flows.shop_refunds(RefusesThenFailsShop()) as shop, pytest.raises(AdapterError) as refused:
        flows.take(LUNE, request_id, "refuse_order")
    assert refused.value.message == "The warehouse has already picked this parcel."
    assert shop.calls == []
    # The shop's own write was rolled back with the plugin's.
    assert flows.shipment_state("MIR-1002", LUNE) == "paid"
    assert flows.snapshot(request_id) == before


def test_a_refused_order_whose_refund_fails_can_be_retried(ctx):
    request_id = flows.submit_cancellation().id
    with flows.shop_refunds(flows.FailingPaymentShop()) as provider, pytest.raises(AdapterError):
        flows.take(LUNE, request_id, "refuse_order")
    [first] = provider.calls
    # The refusal stands: the part is cancelled; only the refund is pending a retry.
    assert flows.fresh(request_id).status == Status.ORDER_REFUSED
    assert flows.shipment_state("MIR-1002", LUNE) == "cancelled"
    refund = flows.refund_row(request_id)
    assert (refund.state, refund.last_error) == (RefundState.FAILED, "The payment provider is not answering.")
    assert actions(request_id)[-1] == ("refund_failed", Status.ORDER_REFUSED, Status.ORDER_REFUSED, "artist")
    offered = [t.action for t, _r in workflow.available_actions(flows.as_user(LUNE), flows.fresh(request_id))]
    assert "retry_refund" in offered and "refuse_order" not in offered

    with flows.shop_refunds(flows.RecordingShop()) as shop:
        flows.take(SUPPORT, request_id, "retry_refund")
    assert [o.idempotency_key for o in shop.calls] == [first.idempotency_key]
    assert flows.refund_row(request_id).state == RefundState.INITIATED
    with pytest.raises(NotAllowed) as refused:
        flows.take(LUNE, request_id, "retry_refund")
    assert refused.value.message == "The refund has already been initiated."
    confirm_refund(first.idempotency_key, "PSP-7")
    assert flows.fresh(request_id).status == Status.REFUNDED


def test_retry_refund_with_no_refund_to_retry(ctx):
    request_id = flows.submit_cancellation().id
    flows.take(LUNE, request_id, "refuse_order")
    db.session.execute(sa.delete(Refund))
    db.session.commit()
    with pytest.raises(NotAllowed) as refused:
        flows.take(LUNE, request_id, "retry_refund")
    assert refused.value.message == "There is no refund to retry."


def test_one_refund_per_request_whatever_happens(ctx):
    request_id = received_return()
    for _attempt in range(3):
        with flows.shop_refunds(flows.FailingPaymentShop()), pytest.raises(AdapterError):
            flows.take(LUNE, request_id, "initiate_refund")
    flows.take(LUNE, request_id, "initiate_refund")
    key = flows.refund_row(request_id).idempotency_key
    confirm_refund(key, "PSP-1")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 1
    assert len(shop_refund_rows()) == 1
    failed = db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEntry)
                               .where(HistoryEntry.action == "refund_failed"))
    assert failed == 3
