"""Blinker signals a shop connects to: each fires once, after the commit,
with the request and the row that changed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import confirm_refund, signals, workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.errors import AdapterError, NotAllowed, ValidationError
from mirette_returns_plugin.models import HistoryEntry, Message, Refund, RefundState, Request
from mirette_returns_plugin.workflow import Status
from tests import flows
from tests.shop import CAMILLE, LUNE, SUPPORT, order_ref, user

SIGNALS = {
    "request_created": signals.request_created,
    "status_changed": signals.status_changed,
    "message_posted": signals.message_posted,
    "refund_initiated": signals.refund_initiated,
    "refund_confirmed": signals.refund_confirmed,
}


class Heard:
    """Every signal received, with what a separate connection saw at that moment."""

    def __init__(self, app) -> None:
        self.app = app
        self.events: list[tuple[str, dict]] = []

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def of(self, name: str) -> list[dict]:
        return [seen for n, seen in self.events if n == name]

    def clear(self) -> None:
        self.events.clear()

    def receiver(self, name: str):
        def receive(sender, **kwargs):
            assert sender is self.app
            request = kwargs["request"]
            seen = {"request_id": request.id, "kwargs": kwargs}
            # A fresh connection sees only what was committed: the change must be there.
            with db.engine.connect() as other:
                seen["committed_status"] = other.scalar(sa.select(Request.status).where(Request.id == request.id))
                if "entry" in kwargs:
                    seen["entry_committed"] = other.scalar(
                        sa.select(HistoryEntry.id).where(HistoryEntry.id == kwargs["entry"].id))
                if "message" in kwargs:
                    seen["message_committed"] = other.scalar(
                        sa.select(Message.id).where(Message.id == kwargs["message"].id))
                if "refund" in kwargs:
                    seen["refund_state"] = other.scalar(
                        sa.select(Refund.state).where(Refund.id == kwargs["refund"].id))
            self.events.append((name, seen))

        return receive


@pytest.fixture
def heard(app, ctx) -> Iterator[Heard]:
    listener = Heard(app)
    receivers = {name: listener.receiver(name) for name in SIGNALS}
    for name, signal in SIGNALS.items():
        signal.connect(receivers[name], sender=app)
    yield listener
    for name, signal in SIGNALS.items():
        signal.disconnect(receivers[name], sender=app)


def test_request_created_once_after_commit(heard):
    request = flows.submit_line()
    assert heard.names() == ["request_created"]
    [seen] = heard.of("request_created")
    assert seen["request_id"] == request.id and seen["committed_status"] == Status.REQUESTED


def test_a_repeated_submission_creates_nothing_and_says_nothing(heard):
    token = "1234567890abcdef1234"
    first = flows.submit_line(submission_token=token)
    heard.clear()
    assert flows.submit_line(submission_token=token).id == first.id
    assert heard.names() == []


def test_nothing_is_heard_of_a_refused_submission(heard):
    with pytest.raises(ValidationError):
        flows.submit_line(quantity=0)
    with pytest.raises(NotAllowed):
        flows.submit_line(order="MIR-1001")
    assert heard.names() == []


def test_one_request_created_per_artist_when_cancelling_everything(heard):
    created = workflow.request_cancellation(user(CAMILLE), order_ref("MIR-1002"), None, message="Cancel, please.")
    assert heard.names() == ["request_created", "request_created"]
    assert sorted(seen["request_id"] for seen in heard.of("request_created")) == sorted(r.id for r in created)


def test_status_changed_once_per_step_with_its_history_row(heard):
    request_id = flows.submit_line().id
    heard.clear()
    flows.take(LUNE, request_id, "accept")
    [seen] = heard.of("status_changed")
    assert heard.names() == ["status_changed"]
    entry = seen["kwargs"]["entry"]
    assert (entry.action, entry.from_status, entry.to_status, entry.actor_role) == (
        "accept", Status.REQUESTED, Status.ACCEPTED, "artist")
    assert seen["committed_status"] == Status.ACCEPTED and seen["entry_committed"] == entry.id


def test_nothing_is_heard_of_a_refused_step(heard):
    request_id = flows.submit_line().id
    heard.clear()
    with pytest.raises(NotAllowed):
        flows.take(CAMILLE, request_id, "accept")
    with pytest.raises(ValidationError):
        flows.take(LUNE, request_id, "accept", note="")
    assert heard.names() == []


def test_message_posted_once_after_commit(heard):
    request_id = flows.submit_line().id
    heard.clear()
    message = workflow.post_message(user(LUNE), request_id, "Could you send a photo of the box?")
    assert heard.names() == ["message_posted"]
    [seen] = heard.of("message_posted")
    assert seen["kwargs"]["message"].id == message.id and seen["message_committed"] == message.id


def test_a_refund_from_initiation_to_confirmation(heard):
    request_id = flows.submit_line().id
    flows.take(LUNE, request_id, "accept")
    flows.take(LUNE, request_id, "receive")
    heard.clear()
    flows.take(LUNE, request_id, "initiate_refund")
    assert heard.names() == ["status_changed", "refund_initiated"]
    changed, initiated = heard.events
    assert changed[1]["kwargs"]["entry"].to_status == Status.REFUND_INITIATED
    assert changed[1]["committed_status"] == Status.REFUND_INITIATED
    assert initiated[1]["refund_state"] == RefundState.INITIATED
    key = initiated[1]["kwargs"]["refund"].idempotency_key

    heard.clear()
    confirm_refund(key, "PSP-5")
    confirm_refund(key, "PSP-5")  # the second call changes nothing and says nothing
    assert heard.names() == ["status_changed", "refund_confirmed"]
    assert heard.events[0][1]["kwargs"]["entry"].to_status == Status.REFUNDED
    assert heard.events[1][1]["refund_state"] == RefundState.COMPLETED
    assert heard.events[1][1]["committed_status"] == Status.REFUNDED


def test_a_failed_refund_initiates_nothing(heard):
    request_id = flows.submit_line().id
    flows.take(LUNE, request_id, "accept")
    flows.take(LUNE, request_id, "receive")
    heard.clear()
    with flows.shop_refunds(flows.FailingPaymentShop()), pytest.raises(AdapterError):
        flows.take(LUNE, request_id, "initiate_refund")
    assert "refund_initiated" not in heard.names()
    # The failure is a step of the history, heard like any other.
    assert heard.names() == ["status_changed"]
    assert heard.of("status_changed")[0]["kwargs"]["entry"].action == "refund_failed"


def test_refusing_an_order(heard):
    request_id = flows.submit_cancellation().id
    heard.clear()
    flows.take(LUNE, request_id, "refuse_order")
    assert heard.names() == ["status_changed", "status_changed", "refund_initiated"]
    steps = [seen["kwargs"]["entry"].action for seen in heard.of("status_changed")]
    assert steps == ["refuse_order", "refund_initiated"]
    heard.clear()
    flows.take(SUPPORT, request_id, "confirm_refund")
    assert heard.names() == ["status_changed", "refund_confirmed"]


class ConfirmsInsideItsHookShop(flows.RecordingShop):
    def initiate_refund(self, refund):
        result = super().initiate_refund(refund)
        confirm_refund(refund.idempotency_key, "PSP-sync")
        return result


def test_a_shop_confirming_inside_its_hook_is_heard_in_order(heard):
    request_id = flows.submit_line().id
    flows.take(LUNE, request_id, "accept")
    flows.take(LUNE, request_id, "receive")
    heard.clear()
    with flows.shop_refunds(ConfirmsInsideItsHookShop()):
        flows.take(LUNE, request_id, "initiate_refund")
    assert heard.names() == ["status_changed", "refund_initiated", "status_changed", "refund_confirmed"]
