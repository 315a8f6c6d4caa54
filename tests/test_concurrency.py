"""Races, with real threads on a real server database.

Each thread has its own app context, session and connection; a
``threading.Barrier`` releases them together so that they really overlap.
Whatever the interleaving, exactly one of the racing changes wins and the
others are refused with a message.

SQLite lets one writer in at a time, so nothing can race there: these tests
run on PostgreSQL and MariaDB (``MIRETTE_TEST_DATABASE=postgresql|mariadb``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import confirm_refund, signals, workflow
from mirette_returns_plugin.demo.models import PaymentRefund, db
from mirette_returns_plugin.errors import Conflict, MiretteReturnsError, NotAllowed, ValidationError
from mirette_returns_plugin.models import HistoryEntry, Refund, RefundState, Request, RequestKind
from mirette_returns_plugin.workflow import Status
from tests import flows
from tests.conftest import RACES
from tests.shop import BOIS, CAMILLE, LUNE, SUPPORT, artist_ref, line_ref, order_ref, user

pytestmark = RACES

THREADS = 8


@dataclass
class Outcome:
    value: object = None
    error: BaseException | None = None

    @property
    def won(self) -> bool:
        return self.error is None


Attempt = Callable[[Callable[[], None]], object]


def race(app, attempts: list[Attempt]) -> list[Outcome]:
    """Run each attempt in its own thread, app context and session.

    An attempt prepares what it needs (users, refs), calls ``go()`` to wait
    for the others, then acts; it returns plain values, not ORM rows.
    """
    barrier = threading.Barrier(len(attempts))
    outcomes = [Outcome() for _ in attempts]

    def run(index: int, attempt: Attempt) -> None:
        with app.test_request_context():
            try:
                outcomes[index].value = attempt(lambda: barrier.wait(timeout=60))
            except BaseException as error:  # noqa: BLE001 - reported to the test
                outcomes[index].error = error
            finally:
                db.session.remove()

    db.session.remove()  # the test's own session holds no snapshot or lock meanwhile
    threads = [threading.Thread(target=run, args=(i, a), name=f"race-{i}") for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a racing thread is stuck"
    return outcomes


def assert_one_winner(outcomes: list[Outcome], refused=(NotAllowed,)) -> Outcome:
    """Exactly one outcome won; every other was refused with one of ``refused``.

    Racing steps on one request expect ``NotAllowed`` only: the row lock makes
    each loser wait for the winner, then read the new status and say so. A
    ``Conflict`` there would mean the losers did not wait, and were only
    stopped by the version column at write time.
    """
    winners = [o for o in outcomes if o.won]
    losers = [o.error for o in outcomes if not o.won]
    unexpected = [e for e in losers if not isinstance(e, refused)]
    assert not unexpected, f"unexpected errors: {unexpected!r}"
    assert len(winners) == 1, f"{len(winners)} winners; refused with: {[e.message for e in losers]}"
    for error in losers:
        assert isinstance(error, MiretteReturnsError) and len(error.message) > 20, error
    return winners[0]


def step(email: str, request_id: int, action: str, **fields) -> Attempt:
    def attempt(go):
        actor = flows.as_user(email)
        go()
        return workflow.perform(actor, request_id, action, note=flows.NOTE, tracking=flows.TRACKING, **fields).id

    return attempt


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# --------------------------------------------------------------------------- #
# Two transitions on one request
# --------------------------------------------------------------------------- #


def test_the_same_step_taken_everywhere_at_once(app, ctx):
    request_id = flows.submit_line().id
    before = flows.snapshot(request_id)
    outcomes = race(app, [step(LUNE if i % 3 else SUPPORT, request_id, "accept") for i in range(THREADS)])
    assert_one_winner(outcomes)
    after = flows.snapshot(request_id)
    assert after["status"] == Status.ACCEPTED
    assert after["history"] == 2  # submitted, then the one step that won
    assert after["version"] == before["version"] + 1


def test_steps_that_exclude_each_other(app, ctx):
    """The artist declines while the buyer withdraws: one of them only."""
    request_id = flows.submit_line().id
    outcomes = race(app, [step(LUNE, request_id, "decline"), step(SUPPORT, request_id, "decline")]
                    + [step(CAMILLE, request_id, "withdraw") for _ in range(THREADS - 2)])
    assert_one_winner(outcomes)
    after = flows.snapshot(request_id)
    assert after["status"] in (Status.DECLINED, Status.WITHDRAWN)
    assert after["history"] == 2
    rows = flows.history(request_id)
    assert rows[-1].to_status == after["status"]


def test_the_same_step_from_two_pages_with_the_same_version(app, ctx):
    request_id = flows.submit_line().id
    shown = flows.snapshot(request_id)["version"]
    outcomes = race(app, [step(LUNE, request_id, "accept", version=shown) for _ in range(THREADS)])
    assert_one_winner(outcomes, refused=(Conflict,))
    for outcome in outcomes:
        if not outcome.won:
            # Read under the lock, after the winner: the page was stale.
            assert outcome.error.message == (
                "This request changed since you opened the page. Look at its new status and try again.")
    assert flows.snapshot(request_id)["history"] == 2


def test_refund_initiated_once_when_clicked_everywhere(app, ctx):
    request_id = flows.submit_line().id
    flows.take(LUNE, request_id, "accept")
    flows.take(LUNE, request_id, "receive")
    with flows.shop_refunds(flows.RecordingShop()) as shop:
        outcomes = race(app, [step(LUNE if i % 2 else SUPPORT, request_id, "initiate_refund")
                              for i in range(THREADS)])
    assert_one_winner(outcomes)
    assert len(shop.calls) == 1
    assert count(PaymentRefund) == 1 and count(Refund) == 1
    assert flows.snapshot(request_id)["status"] == Status.REFUND_INITIATED


def test_a_failed_refund_retried_everywhere_at_once_asks_the_shop_once(app, ctx):
    request_id = flows.submit_cancellation().id
    with flows.shop_refunds(flows.FailingPaymentShop()), pytest.raises(MiretteReturnsError):
        flows.take(LUNE, request_id, "refuse_order")
    with flows.shop_refunds(flows.RecordingShop()) as shop:
        outcomes = race(app, [step(LUNE if i % 2 else SUPPORT, request_id, "retry_refund")
                              for i in range(THREADS)])
    assert_one_winner(outcomes)
    assert len(shop.calls) == 1
    assert flows.refund_row(request_id).state == RefundState.INITIATED


def test_the_shop_confirming_one_refund_many_times_at_once(app, ctx):
    request_id = flows.submit_line().id
    for action in ("accept", "receive", "initiate_refund"):
        flows.take(LUNE, request_id, action)
    key = flows.refund_row(request_id).idempotency_key
    heard = []
    lock = threading.Lock()

    def listen(sender, **kwargs):
        with lock:
            heard.append(kwargs["refund"].id)

    def attempt(go):
        go()
        return confirm_refund(key, "PSP-1").id

    signals.refund_confirmed.connect(listen, sender=app)
    try:
        outcomes = race(app, [attempt] * THREADS)
    finally:
        signals.refund_confirmed.disconnect(listen, sender=app)
    assert all(o.won or isinstance(o.error, Conflict) for o in outcomes), [o.error for o in outcomes]
    assert any(o.won for o in outcomes)
    assert len(heard) == 1
    assert count(HistoryEntry, HistoryEntry.request_id == request_id, HistoryEntry.action == "confirm_refund") == 1
    assert flows.snapshot(request_id)["status"] == Status.REFUNDED


# --------------------------------------------------------------------------- #
# Cancellation against refusal
# --------------------------------------------------------------------------- #


def test_refuse_order_racing_the_buyers_withdrawal(app, ctx):
    request_id = flows.submit_cancellation().id
    with flows.shop_refunds(flows.RecordingShop()) as shop:
        outcomes = race(app, [step(LUNE, request_id, "refuse_order"), step(SUPPORT, request_id, "refuse_order"),
                              step(LUNE, request_id, "decline")]
                        + [step(CAMILLE, request_id, "withdraw") for _ in range(THREADS - 3)])
    assert_one_winner(outcomes)
    after = flows.snapshot(request_id)
    if after["status"] == Status.ORDER_REFUSED:
        assert flows.shipment_state("MIR-1002", LUNE) == "cancelled"
        assert len(shop.calls) == 1 and after["shop_refunds"] == 1 and len(after["refunds"]) == 1
    else:
        assert after["status"] in (Status.WITHDRAWN, Status.DECLINED)
        assert flows.shipment_state("MIR-1002", LUNE) == "paid"
        assert shop.calls == [] and after["refunds"] == []


def test_cancellation_requests_racing_refuse_order(app, ctx):
    """The buyer asks every artist to cancel while Atelier Lune refuses the order
    it was already asked to cancel: Lune never gets a second request."""
    lune_request = flows.submit_cancellation().id

    def cancel_everything(go):
        buyer = user(CAMILLE)
        go()
        return [r.artist_ref for r in workflow.request_cancellation(buyer, order_ref("MIR-1002"), None,
                                                                    message="Cancel everything, please.")]

    outcomes = race(app, [step(LUNE, lune_request, "refuse_order")] + [cancel_everything] * (THREADS - 1))
    refused_order = outcomes[0]
    assert refused_order.won, refused_order.error
    asked = [o for o in outcomes[1:] if o.won]
    assert [o.value for o in asked] == [[artist_ref(BOIS)]]
    for other in outcomes[1:]:
        assert other.won or isinstance(other.error, (ValidationError, Conflict)), other.error
    requests = flows.requests_on("MIR-1002")
    assert sorted((r.artist_ref, r.status) for r in requests) == sorted(
        [(artist_ref(LUNE), Status.ORDER_REFUSED), (artist_ref(BOIS), Status.REQUESTED)])


def test_cancel_everything_from_many_tabs_asks_each_artist_once(app, ctx):
    def cancel_everything(go):
        buyer = user(CAMILLE)
        go()
        return len(workflow.request_cancellation(buyer, order_ref("MIR-1002"), None, message="Cancel, please."))

    outcomes = race(app, [cancel_everything] * THREADS)
    winners = [o for o in outcomes if o.won]
    assert sum(o.value for o in winners) == 2
    assert all(isinstance(o.error, (ValidationError, Conflict)) for o in outcomes if not o.won)
    assert sorted(r.artist_ref for r in flows.requests_on("MIR-1002")) == sorted([artist_ref(LUNE), artist_ref(BOIS)])


# --------------------------------------------------------------------------- #
# The last returnable unit
# --------------------------------------------------------------------------- #


def submitting(kind: str, quantity: int, token: str | None = None) -> Attempt:
    def attempt(go):
        go()
        return flows.submit_line(kind, quantity=quantity, submission_token=token).id

    return attempt


def test_the_last_returnable_unit_is_requested_once(app, ctx):
    flows.submit_line(quantity=3)  # 1 of the 4 mugs left
    kinds = [RequestKind.RETURN, RequestKind.EXCHANGE]
    outcomes = race(app, [submitting(kinds[i % 2], 1) for i in range(THREADS)])
    assert_one_winner(outcomes, refused=(NotAllowed, Conflict))
    for outcome in outcomes:
        if isinstance(outcome.error, NotAllowed):
            assert outcome.error.message == "Every unit of this item is already under a request."
    assert count(Request) == 2
    assert workflow.held_quantities(order_ref("MIR-1004")) == {line_ref("MIR-1004", "Speckled mug"): 4}


def test_every_unit_requested_from_many_tabs_at_once(app, ctx):
    outcomes = race(app, [submitting(RequestKind.RETURN, 4) for _ in range(THREADS)])
    assert_one_winner(outcomes, refused=(NotAllowed, Conflict))
    assert count(Request) == 1


def test_the_same_form_posted_many_times_at_once_makes_one_request(app, ctx):
    token = "5ca1ab1e5ca1ab1e5ca1ab1e"
    outcomes = race(app, [submitting(RequestKind.RETURN, 2, token) for _ in range(THREADS)])
    assert all(o.won for o in outcomes), [o.error for o in outcomes]
    assert len({o.value for o in outcomes}) == 1
    assert count(Request) == 1
