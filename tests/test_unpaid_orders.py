"""Orders not yet paid: cancelled without a refund, and no estimate above what was paid.

The Corner Tea House is mounted here with ``OrderMap(paid=...)``: a function
of the purchase row answering from :data:`PAID` (what its payment provider
says), ``None`` meaning paid in full.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import OutboxEmail, Refund, Request, RequestKind
from mirette_returns_plugin.sqla_adapter import SQLAlchemyShopAdapter
from mirette_returns_plugin.state import current_state
from mirette_returns_plugin.workflow import ReturnForm, Status
from tests.example_shops import ShopUnderTest, corner_shop, read, reset_corner_shop, submit
from tests.test_example_shop_flows import open_return_request, step

#: What each purchase's buyer has paid, by number: an amount, ``False`` for nothing.
PAID: dict[str, object] = {}


@pytest.fixture
def corner(app_config: dict, _schema: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopUnderTest]:
    from examples.corner_shop import create_app, returns_adapter

    mapping = returns_adapter.adapter.mapping
    paying = SQLAlchemyShopAdapter(replace(mapping, order=replace(mapping.order,
                                                                  paid=lambda purchase: PAID.get(purchase.number))))
    monkeypatch.setattr(returns_adapter, "adapter", paying)
    PAID.clear()
    app = create_app({**app_config, "CORNER_SEED": False})
    reset_corner_shop(app)
    yield corner_shop(app)
    PAID.clear()
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def ask_to_cancel(shop: ShopUnderTest, buyer) -> str:
    page = open_return_request(shop, buyer, shop.pending_order)
    submit(buyer, page.form(lambda f: "message" in f.names()), message="I chose the wrong tea.")
    [detail_url] = {href for _text, href in open_return_request(shop, buyer, shop.pending_order).links
                    if "/requests/" in href}
    return detail_url


def plugin_rows(shop: ShopUnderTest, model) -> list:
    with shop.app.app_context():
        return list(current_state().session.scalars(sa.select(model)))


def test_refusing_an_unpaid_order_cancels_it_without_a_refund(corner: ShopUnderTest):
    PAID[corner.pending_order] = False
    buyer, staff = corner.client(corner.buyer), corner.client(corner.seller)
    url = ask_to_cancel(corner, buyer)
    asked = read(buyer.get(url))
    assert "Nothing has been charged for this order yet, so nothing will be refunded." in asked.text
    assert "Total refund £0.00" in asked.text

    # The shop's staff see what their button does.
    assert "Cancel the order (nothing was charged)" in read(staff.get(url)).text
    step(staff, url, "refuse_order", confirm="1")
    seen = read(buyer.get(url))
    assert "Order cancelled - nothing was charged" in seen.text
    assert "cancelled the order, as asked; nothing was charged, so nothing is refunded" in seen.text
    assert "Nothing was charged for this order, so nothing is refunded." in seen.text
    # Cancelled in the shop, and nobody asked to pay anything back.
    assert corner.raw_stage(corner.pending_order) == corner.cancelled_value
    assert plugin_rows(corner, Refund) == []
    assert corner.refund_rows() == []  # the shop's initiate_refund writes a till row: it was never called
    [request] = plugin_rows(corner, Request)
    assert (request.status, request.refund_total) == (Status.CANCELLED, Decimal("0.00"))
    assert request.closed_at is not None
    with corner.app.app_context():
        [email] = [email for email in map(WrittenEmail, current_state().session.scalars(sa.select(OutboxEmail).where(
            OutboxEmail.recipient == corner.buyer))) if "nothing was charged" in email.subject]
    assert "Corner Tea House cancelled the order, as asked. Nothing was charged for it, so there is nothing " \
           "to refund." in " ".join(email.body_text.split())
    assert "£" not in email.body_text


def test_a_buyer_who_paid_after_asking_is_refunded_what_they_paid(corner: ShopUnderTest):
    PAID[corner.pending_order] = False
    buyer, staff = corner.client(corner.buyer), corner.client(corner.seller)
    url = ask_to_cancel(corner, buyer)
    PAID[corner.pending_order] = Decimal("10.00")  # of 17.80 + 3.95 postage
    step(staff, url, "refuse_order", confirm="1")
    assert "Order cancelled - refund initiated" in read(buyer.get(url)).text
    [(_key, amount, _paid)] = corner.refund_rows()
    assert amount == Decimal("10.00")
    [request] = plugin_rows(corner, Request)
    assert (request.status, request.refund_total) == (Status.ORDER_REFUSED, Decimal("10.00"))


def test_a_return_estimate_never_exceeds_what_was_paid(corner: ShopUnderTest):
    # CT-1042: 3 × Assam at £4.50, a teapot at £39.00, a gift card; £5.00 paid so far.
    PAID[corner.delivered_order] = Decimal("5.00")
    order, line = corner.line(corner.delivered_order, corner.line_product)
    buyer = corner.client(corner.buyer)
    # The estimate the form shows as the buyer picks a quantity (an htmx request).
    preview = read(buyer.get(f"/account/returns/orders/{order.ref}/lines/{line.ref}/preview"
                             "?quantity=2&reason_code=changed_mind", headers={"HX-Request": "true"}))
    assert "Not paid, so not refunded −£4.00" in preview.text and "Total refund £5.00" in preview.text, preview.text

    user = corner.user(corner.buyer)
    with corner.ctx():
        first = workflow.submit_return(user, order.ref, ReturnForm(
            line_ref=line.ref, quantity=2, kind=RequestKind.RETURN, reason_code="changed_mind"))
        assert (first.refund_items, first.refund_total) == (Decimal("9.00"), Decimal("5.00"))
        # What the first request refunds is no longer there to refund.
        second = workflow.submit_return(user, order.ref, ReturnForm(
            line_ref=line.ref, quantity=1, kind=RequestKind.RETURN, reason_code="changed_mind"))
        assert second.refund_total == Decimal("0.00")


def test_a_french_buyer_is_told_in_french_that_nothing_was_charged(corner: ShopUnderTest):
    from examples.corner_shop.models import Member

    with corner.app.app_context():
        db = corner.app.extensions["sqlalchemy"]
        db.session.execute(sa.update(Member).where(Member.email == corner.buyer).values(language="fr"))
        db.session.commit()
    PAID[corner.pending_order] = False
    buyer, staff = corner.client(corner.buyer), corner.client(corner.seller)
    url = ask_to_cancel_in_french(corner, buyer)
    assert "Rien n'a encore été débité pour cette commande, rien ne sera donc remboursé." in read(buyer.get(url)).text
    step(staff, url, "refuse_order", confirm="1")
    seen = read(buyer.get(url)).text
    assert "Commande annulée – rien n'a été débité" in seen
    assert "a annulé la commande, comme demandé ; rien n'avait été débité, rien n'est donc remboursé" in seen
    with corner.app.app_context():
        [email] = [email for email in map(WrittenEmail, current_state().session.scalars(sa.select(OutboxEmail).where(
            OutboxEmail.recipient == corner.buyer))) if "rien n'a été débité" in email.subject]
    assert email.subject.startswith("[Corner Tea House] Commande CT-1041")
    assert "Corner Tea House a annulé la commande, comme demandé. Rien n'avait été débité, il n'y a donc rien " \
           "à rembourser." in " ".join(email.body_text.split())


def ask_to_cancel_in_french(shop: ShopUnderTest, buyer) -> str:
    order_page = read(buyer.get(shop.order_page(shop.pending_order)))
    [button] = [href for text, href in order_page.links if text == "Demande de retour"]
    page = read(buyer.get(button))
    submit(buyer, page.form(lambda f: "message" in f.names()), message="Je me suis trompé de thé.")
    [detail_url] = {href for _text, href in read(buyer.get(button)).links if "/requests/" in href}
    return detail_url
