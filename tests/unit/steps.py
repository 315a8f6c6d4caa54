"""Driving requests through the plugin's services on the tiny shop.

The unit layer's counterpart of ``tests/flows.py``: the same people in the
same parts (Camille buys, Atelier Lune sells, Verre Soufflé sells in the same
orders, Alex buys elsewhere, Sam is support), the same paths through the table
(``tests/paths.py``), and what the database and the shop hold afterwards.
"""

from __future__ import annotations

import sqlalchemy as sa

from mirette_returns_plugin import (
    ReturnForm,
    User,
    perform,
    request_cancellation,
    submit_return,
)
from mirette_returns_plugin.models import HistoryEntry, Message, OutboxEmail, Photo, Refund, Request, RequestKind
from mirette_returns_plugin.state import current_state
from tests.paths import (  # noqa: F401  (the tests read these here too)
    AMOUNT,
    CANCEL_ORDER,
    LINE_ORDER,
    LINE_PRODUCT,
    NOTE,
    ROLE_OF,
    STEP_VALUES,
    TRACKING,
    Case,
    Cast,
    Driver,
)
from tests.sample_photo import photo  # noqa: F401  (the tests read it here)

from .tiny_shop import ALEX, CAMILLE, LUNE, SUPPORT, VERRE, TinyShop, line_ref

CAST = Cast(buyer=CAMILLE, artist=LUNE, another_artist=VERRE, another_buyer=ALEX, support=SUPPORT)
PEOPLE = CAST.people()
PERSON_FOR_ROLE = CAST.for_role()


def shop() -> TinyShop:
    """The shop the plugin is mounted on."""
    return current_state().adapter


def session():
    return current_state().session


def as_user(who: str | None) -> User | None:
    return None if who is None else shop().user(who)


def take(who: str | None, request_id: object, action: str, **fields) -> Request:
    """``who`` takes ``action``, filling in every field a step may ask for."""
    values: dict[str, object] = dict(STEP_VALUES)
    values.update(fields)
    return perform(as_user(who), request_id, action, **values)


def submit_line(kind: str = RequestKind.RETURN, *, quantity: object = 1, reason: str | None = "changed_mind",
                buyer: str = CAMILLE, order: str = LINE_ORDER, product: str = LINE_PRODUCT, **form) -> Request:
    """Submit a return or an exchange of one line, as the buyer would."""
    line = line_ref(order, product)
    if kind == RequestKind.EXCHANGE and "wanted_ref" not in form and "wanted_text" not in form:
        options = shop().exchange_options(order, line)
        if options:
            form["wanted_ref"] = options[0].ref
        else:
            form["wanted_text"] = "The same, in another colour"
    return submit_return(shop().user(buyer), order,
                         ReturnForm(line_ref=line, quantity=quantity, kind=kind, reason_code=reason, **form))


def submit_cancellation(artist: str = LUNE, *, order: str = CANCEL_ORDER,
                        message: str = "I ordered twice by mistake, sorry.") -> Request:
    [request] = request_cancellation(shop().user(CAMILLE), order, [artist], message=message)
    return request


def submit(kind: str) -> Request:
    return submit_cancellation() if kind == RequestKind.CANCELLATION else submit_line(kind)


def drive(case: Case) -> int:
    """A fresh request in ``case.source``, ready for ``case.action``."""
    return Driver(CAST, submit, take, refunds_failing=lambda: shop().refunds_failing(),
                  unpaid=lambda: shop().waiting_for_payment()).drive(case)


# --------------------------------------------------------------------------- #
# What the database and the shop hold
# --------------------------------------------------------------------------- #


def snapshot(request_id: int) -> dict[str, object]:
    """Everything a step may change about a request, read afresh."""
    db = session()
    db.rollback()
    row = db.execute(
        sa.select(
            Request.status, Request.kind, Request.version, Request.escalated, Request.instructions,
            Request.decline_reason, Request.return_tracking, Request.replacement_tracking,
            Request.converted_from_exchange, Request.closed_at, Request.order_ref,
        ).where(Request.id == request_id)
    ).one()._asdict()

    def count(model) -> int:
        return db.scalar(sa.select(sa.func.count()).select_from(model).where(model.request_id == request_id))

    row["history"] = count(HistoryEntry)
    row["messages"] = count(Message)
    row["photos"] = count(Photo)
    row["outbox"] = count(OutboxEmail)
    row["refunds"] = [tuple(r) for r in db.execute(
        sa.select(Refund.idempotency_key, Refund.state, Refund.attempts, Refund.last_error)
        .where(Refund.request_id == request_id))]
    order = shop().orders[row["order_ref"]]
    row["stages"] = [part.stage for part in order.parts]
    row["shop_refunds"] = sum(1 for refund in shop().refund_orders if refund.order_ref == row["order_ref"])
    db.rollback()
    return row


def history(request_id: int) -> list[HistoryEntry]:
    session().rollback()
    return list(session().scalars(
        sa.select(HistoryEntry).where(HistoryEntry.request_id == request_id).order_by(HistoryEntry.id)))


def fresh(request_id: int) -> Request:
    session().rollback()
    return session().get(Request, request_id, populate_existing=True)


def refund_row(request_id: int) -> Refund | None:
    session().rollback()
    return session().scalar(sa.select(Refund).where(Refund.request_id == request_id))


def count_requests() -> int:
    session().rollback()
    return session().scalar(sa.select(sa.func.count()).select_from(Request))


def stage(order: str, artist: str):
    return shop().part(order, artist).stage


def queued_emails() -> list[tuple[str, str, str]]:
    """``(action, recipient role, address)`` of every outbox row, oldest first
    (the action is the history row's, or ``message``)."""
    db = session()
    actions = dict(db.execute(sa.select(HistoryEntry.id, HistoryEntry.action)).all())
    found = []
    for row in db.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)):
        event, role = row.event_key.split(":", 1)
        kind, number = event.rsplit("-", 1)
        action = actions[int(number)] if kind == "history" else "message"
        found.append((action, role.split("-", 1)[0], row.recipient))
    return found
