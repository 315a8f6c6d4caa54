"""Driving requests through the workflow, for the workflow, refund and signal tests.

The paths are computed from :data:`mirette_returns_plugin.workflow.TRANSITIONS`
itself: a row added to the table is driven and tested without touching the
tests. Every step goes through the public service functions, as a page would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal

import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.adapter import RefundOrder, RefundResult, User
from mirette_returns_plugin.demo.adapter import DemoShopAdapter
from mirette_returns_plugin.demo.models import PaymentRefund, Shipment, ShopOrder, db
from mirette_returns_plugin.errors import AdapterError
from mirette_returns_plugin.models import HistoryEntry, Message, OutboxEmail, Photo, Refund, Request, RequestKind
from mirette_returns_plugin.state import current_state
from mirette_returns_plugin.workflow import ReturnForm
from tests.paths import (  # noqa: F401  (the tests read the paths here too)
    AMOUNT,
    CANCEL_ORDER,
    DRIVING_ROLES,
    ESCALATE_FIRST,
    LINE_ORDER,
    LINE_PRODUCT,
    NOTE,
    PATHS,
    REFUND_FAILS_ON_THE_WAY,
    ROLE_OF,
    STEP_VALUES,
    TRACKING,
    UNPAID_OUTCOMES,
    Case,
    Cast,
    Driver,
    Step,
    cases,
)
from tests.sample_photo import photo  # noqa: F401  (the tests read it here)
from tests.shop import ALEX, CAMILLE, LUNE, SUPPORT, VERRE, artist_ref, line_ref, order_ref, user

CAST = Cast(buyer=CAMILLE, artist=LUNE, another_artist=VERRE, another_buyer=ALEX, support=SUPPORT)
PEOPLE = CAST.people()
PERSON_FOR_ROLE = CAST.for_role()


def as_user(email: str | None) -> User | None:
    return user(email) if email else None


def take(email: str | None, request_id: int, action: str, **fields) -> Request:
    """``email`` takes ``action``, filling in every field a step may ask for."""
    values: dict[str, object] = dict(STEP_VALUES)
    values.update(fields)
    return workflow.perform(as_user(email), request_id, action, **values)


def submit_line(
    kind: str = RequestKind.RETURN,
    *,
    quantity: object = 1,
    reason: str | None = "changed_mind",
    buyer: str = CAMILLE,
    order: str = LINE_ORDER,
    product: str = LINE_PRODUCT,
    **form,
) -> Request:
    """Submit a return or an exchange of one line, as the buyer would."""
    order_id, line = order_ref(order), line_ref(order, product)
    if kind == RequestKind.EXCHANGE and "wanted_ref" not in form and "wanted_text" not in form:
        options = current_state().adapter.exchange_options(order_id, line)
        if options:
            form["wanted_ref"] = options[0].ref
        else:
            form["wanted_text"] = "The same, in another colour"
    return workflow.submit_return(
        user(buyer), order_id,
        ReturnForm(line_ref=line, quantity=quantity, kind=kind, reason_code=reason, **form),
    )


def submit_cancellation(artist: str = LUNE, *, order: str = CANCEL_ORDER,
                        message: str = "I ordered twice by mistake, sorry.") -> Request:
    [request] = workflow.request_cancellation(user(CAMILLE), order_ref(order), [artist_ref(artist)],
                                              message=message)
    return request


def submit(kind: str) -> Request:
    return submit_cancellation() if kind == RequestKind.CANCELLATION else submit_line(kind)


# --------------------------------------------------------------------------- #
# Paths through the table (tests/paths.py)
# --------------------------------------------------------------------------- #

def drive(case: Case) -> int:
    """A fresh request in ``case.source``, ready for ``case.action``."""
    return Driver(CAST, submit, take, refunds_failing=lambda: shop_refunds(FailingPaymentShop()),
                  unpaid=lambda: shop_refunds(UnpaidShop())).drive(case)


# --------------------------------------------------------------------------- #
# The shop's side
# --------------------------------------------------------------------------- #


class FailingPaymentShop(DemoShopAdapter):
    """The demo shop whose payment provider is down.

    This is the one place where a stand-in replaces something outside the
    plugin: a real payment provider cannot be made to fail on demand. The
    database, the adapter's other methods and the plugin are all real.
    """

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error or AdapterError("The payment provider is not answering.")
        self.calls: list[RefundOrder] = []

    def initiate_refund(self, refund: RefundOrder) -> RefundResult:
        self.calls.append(refund)
        raise self.error


class UnpaidShop(DemoShopAdapter):
    """The demo shop where every order still waits for its payment."""

    def get_order(self, order_ref: str):
        order = super().get_order(order_ref)
        if order is None:
            return None
        return replace(order, parts=tuple(replace(part, paid=Decimal("0")) for part in order.parts))


class RecordingShop(DemoShopAdapter):
    """The demo shop, remembering every refund order it was given."""

    def __init__(self) -> None:
        self.calls: list[RefundOrder] = []

    def initiate_refund(self, refund: RefundOrder) -> RefundResult:
        self.calls.append(refund)
        return super().initiate_refund(refund)


@contextmanager
def shop_refunds(adapter: DemoShopAdapter) -> Iterator[DemoShopAdapter]:
    """Mount ``adapter`` instead of the demo's own for the duration."""
    state = current_state()
    original = state.adapter
    state.adapter = adapter
    try:
        yield adapter
    finally:
        state.adapter = original


# --------------------------------------------------------------------------- #
# What the database holds
# --------------------------------------------------------------------------- #


def snapshot(request_id: int) -> dict[str, object]:
    """Everything a step may change about a request, read afresh from the database."""
    db.session.rollback()
    row = db.session.execute(
        sa.select(
            Request.status, Request.kind, Request.version, Request.escalated, Request.instructions,
            Request.decline_reason, Request.return_tracking, Request.replacement_tracking,
            Request.converted_from_exchange, Request.closed_at, Request.order_ref,
        ).where(Request.id == request_id)
    ).one()._asdict()
    count = _count_for(request_id)
    row["history"] = count(HistoryEntry)
    row["messages"] = count(Message)
    row["photos"] = count(Photo)
    row["outbox"] = count(OutboxEmail)
    row["refunds"] = [
        tuple(r) for r in db.session.execute(
            sa.select(Refund.idempotency_key, Refund.state, Refund.attempts, Refund.last_error)
            .where(Refund.request_id == request_id)
        )
    ]
    order_id = int(row["order_ref"])
    row["shipments"] = list(db.session.scalars(
        sa.select(Shipment.state).where(Shipment.order_id == order_id).order_by(Shipment.id)))
    row["shop_refunds"] = db.session.scalar(
        sa.select(sa.func.count()).select_from(PaymentRefund).where(PaymentRefund.order_id == order_id))
    db.session.rollback()
    return row


def _count_for(request_id: int):
    def count(model) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.request_id == request_id))

    return count


def history(request_id: int) -> list[HistoryEntry]:
    db.session.rollback()
    return list(db.session.scalars(
        sa.select(HistoryEntry).where(HistoryEntry.request_id == request_id).order_by(HistoryEntry.id)))


def fresh(request_id: int) -> Request:
    db.session.rollback()
    return db.session.get(Request, request_id, populate_existing=True)


def refund_row(request_id: int) -> Refund | None:
    db.session.rollback()
    return db.session.scalar(sa.select(Refund).where(Refund.request_id == request_id))


def requests_on(order: str) -> list[Request]:
    db.session.rollback()
    return list(db.session.scalars(
        sa.select(Request).where(Request.order_ref == order_ref(order)).order_by(Request.id)))


def shipment_state(order: str, artist_email: str) -> str:
    db.session.rollback()
    return db.session.scalar(
        sa.select(Shipment.state).join(ShopOrder).where(
            ShopOrder.number == order, Shipment.artist_id == int(artist_ref(artist_email))))
