"""The same flows on both example shops, through the same public API.

The demo marketplace (hand-written adapter, integer ids, text stages, several
artists) and the Corner Tea House (ready adapter, UUID keys, integer status
codes, one seller, no foreign keys, its own login and layout) must both carry
a return to "Refunded", a cancellation before processing, an exchange and a
withdrawal: first through the workflow functions, then through the pages, as
their people would, with CSRF protection on.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import url_for

from mirette_returns_plugin import workflow
from mirette_returns_plugin.adapter import Stage
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import HistoryEntry, OutboxEmail, Request, RequestKind
from mirette_returns_plugin.refunds import confirm_refund
from mirette_returns_plugin.state import current_state
from mirette_returns_plugin.workflow import ReturnForm, Status
from tests.example_shops import ShopUnderTest, corner_shop, demo_shop, read, reset_corner_shop, submit


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # The shops run with CSRF protection on, as in production: every post
    # below carries the token its form was rendered with.
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture(params=["demo", "corner"])
def shop(request: pytest.FixtureRequest, app_config: dict, _schema: None) -> Iterator[ShopUnderTest]:
    if request.param == "demo":
        yield demo_shop(request.getfixturevalue("app"))
        return
    from examples.corner_shop import create_app

    app = create_app({**app_config, "CORNER_SEED": False})
    reset_corner_shop(app)
    yield corner_shop(app)
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def fresh(shop: ShopUnderTest, request_id: int) -> Request:
    """The request as the database holds it now."""
    with shop.app.app_context():
        found = current_state().session.get(Request, request_id)
        current_state().session.expunge(found)
        return found


def history_of(shop: ShopUnderTest, request_id: int) -> list[str]:
    with shop.app.app_context():
        return list(current_state().session.scalars(
            sa.select(HistoryEntry.action).where(HistoryEntry.request_id == request_id).order_by(HistoryEntry.id)))


def emails_to(shop: ShopUnderTest, address: str) -> list[str]:
    with shop.app.app_context():
        return [WrittenEmail(row).subject for row in current_state().session.scalars(
            sa.select(OutboxEmail).where(OutboxEmail.recipient == address))]


# --------------------------------------------------------------------------- #
# Through the workflow API
# --------------------------------------------------------------------------- #


def test_return_accepted_received_refunded_and_confirmed(shop: ShopUnderTest):
    buyer, seller = shop.user(shop.buyer), shop.user(shop.seller)
    order, line = shop.line(shop.delivered_order, shop.line_product)
    with shop.ctx():
        created = workflow.submit_return(buyer, order.ref, ReturnForm(
            line_ref=line.ref, quantity=1, kind=RequestKind.RETURN, reason_code="changed_mind"))
        request_id = created.id
        assert (created.order_number, created.product_name, created.status) == (
            shop.delivered_order, shop.line_product, Status.REQUESTED)
        assert created.artist_ref == seller.artist_ref
        workflow.perform(seller, request_id, "accept", note="Send it back in its box, please.")
        workflow.perform(buyer, request_id, "ship_back", tracking="TRACK-1")
        workflow.perform(seller, request_id, "receive")
        assert fresh(shop, request_id).status == Status.RECEIVED
        workflow.perform(seller, request_id, "initiate_refund")
    assert fresh(shop, request_id).status == Status.REFUND_INITIATED
    [(key, amount, paid)] = shop.refund_rows()  # recorded in the shop's own table
    assert amount == fresh(shop, request_id).refund_total > 0 and not paid
    with shop.ctx():
        confirm_refund(key, "bank-42")
    assert fresh(shop, request_id).status == Status.REFUNDED
    assert history_of(shop, request_id) == [
        "submit", "accept", "ship_back", "receive", "initiate_refund", "confirm_refund"]


def test_cancellation_before_processing_refuses_the_order_in_the_shop(shop: ShopUnderTest):
    buyer, seller = shop.user(shop.buyer), shop.user(shop.seller)
    order = shop.order(shop.pending_order)
    (part,) = order.parts
    assert part.stage == Stage.PENDING
    with shop.ctx():
        [created] = workflow.request_cancellation(buyer, order.ref, [part.artist_ref],
                                                  message="I ordered twice by mistake.")
        request_id = created.id
        assert created.kind == RequestKind.CANCELLATION and created.order_number == shop.pending_order
        workflow.perform(seller, request_id, "refuse_order", note="Cancelled, no problem.")
    assert fresh(shop, request_id).status == Status.ORDER_REFUSED
    assert shop.raw_stage(shop.pending_order) == shop.cancelled_value  # written in the shop's own row
    assert shop.order(shop.pending_order).parts[0].stage == Stage.CANCELLED
    [(key, amount, _paid)] = shop.refund_rows()
    assert amount == fresh(shop, request_id).refund_total > 0
    with shop.ctx():
        confirm_refund(key)
    assert fresh(shop, request_id).status == Status.REFUNDED


def test_exchange_ends_with_a_replacement_and_frees_the_quantity(shop: ShopUnderTest):
    buyer, seller = shop.user(shop.buyer), shop.user(shop.seller)
    order, line = shop.line(shop.delivered_order, shop.line_product)
    with shop.ctx():
        options = current_state().adapter.exchange_options(order.ref, line.ref)
        assert options, "both shops offer the other variants of the line"
        created = workflow.submit_return(buyer, order.ref, ReturnForm(
            line_ref=line.ref, quantity=1, kind=RequestKind.EXCHANGE, reason_code="wrong_size",
            wanted_ref=options[0].ref))
        request_id = created.id
        assert created.wanted_label == options[0].label
        assert workflow.held_quantities(order.ref, [line.ref]) == {line.ref: 1}
        for actor, action in ((seller, "accept"), (buyer, "ship_back"), (seller, "receive"),
                              (seller, "ship_replacement")):
            workflow.perform(actor, request_id, action, note="Noted.", tracking="TRACK-2")
        assert workflow.held_quantities(order.ref, [line.ref]).get(line.ref, 0) == 0
    assert fresh(shop, request_id).status == Status.REPLACEMENT_SHIPPED
    assert shop.refund_rows() == []


def test_withdrawn_request_gives_the_quantity_back(shop: ShopUnderTest):
    buyer = shop.user(shop.buyer)
    order, line = shop.line(shop.delivered_order, shop.line_product)
    with shop.ctx():
        created = workflow.submit_return(buyer, order.ref, ReturnForm(
            line_ref=line.ref, quantity=line.quantity, kind=RequestKind.RETURN, reason_code="changed_mind"))
        request_id = created.id
        assert workflow.returnable_quantity(line, workflow.held_quantities(order.ref)) == 0
        workflow.perform(buyer, request_id, "withdraw")
        assert workflow.returnable_quantity(line, workflow.held_quantities(order.ref)) == line.quantity
    assert fresh(shop, request_id).status == Status.WITHDRAWN


# --------------------------------------------------------------------------- #
# Through the pages, from the shop's own order page
# --------------------------------------------------------------------------- #


def open_return_request(shop: ShopUnderTest, client, number: str):
    """From the shop's own order page, follow the plugin's "Return Request" button."""
    order_page = read(client.get(shop.order_page(number)))
    return read(client.get(order_page.link("Return Request")))


def request_return(shop: ShopUnderTest, client, **values: str):
    page = open_return_request(shop, client, shop.delivered_order)
    _order, line = shop.line(shop.delivered_order, shop.line_product)
    [href] = [href for text, href in page.links if text == "Request return" and f"/lines/{line.ref}/" in href]
    form_page = read(client.get(href))
    form = form_page.form(lambda f: "reason_code" in f.names(), "to request a return")
    return submit(client, form, **values), line


def step(client, detail_url: str, action: str, **values: str):
    page = read(client.get(detail_url))
    return submit(client, page.action_form(action), **values)


def request_id_of(page) -> int:
    return int(page.url.rstrip("/").rsplit("/", 1)[-1])


def pay_the_refund(shop: ShopUnderTest) -> None:
    """The shop's own refund page: the person who pays marks it paid."""
    client = shop.client(shop.payer or shop.seller)
    page = read(client.get(shop.refunds_page))
    submit(client, page.form(lambda f: f.action.endswith("/paid"), "to mark the refund paid"))


def test_pages_return_accepted_received_refunded(shop: ShopUnderTest):
    buyer, seller = shop.client(shop.buyer), shop.client(shop.seller)
    detail, _line = request_return(shop, buyer, quantity="1", kind="return", reason_code="changed_mind",
                                   comment="Not for me after all.")
    assert "Requested" in detail.text and shop.line_product in detail.text
    assert "Not for me after all." in detail.text
    url = detail.url
    after = step(seller, url, "accept", note="Post it to the address on the invoice.")
    assert "Accepted - return instructions given" in after.text
    buyer_view = read(buyer.get(url))
    assert "Post it to the address on the invoice." in buyer_view.text
    assert "Sent back" in submit(buyer, buyer_view.action_form("ship_back"), tracking="RM12345GB").text
    assert "Product received - reimbursement can be initiated" in step(seller, url, "receive").text
    assert "Refund initiated" in step(seller, url, "initiate_refund").text
    [(_key, amount, paid)] = shop.refund_rows()
    assert amount == fresh(shop, request_id_of(detail)).refund_total and not paid
    pay_the_refund(shop)
    assert shop.refund_rows()[0][2] is True
    assert "Refunded" in read(buyer.get(url)).text
    assert fresh(shop, request_id_of(detail)).status == Status.REFUNDED
    assert emails_to(shop, shop.buyer), "the buyer is emailed along the way"


def test_pages_cancellation_refused_by_the_seller(shop: ShopUnderTest):
    buyer, seller = shop.client(shop.buyer), shop.client(shop.seller)
    page = open_return_request(shop, buyer, shop.pending_order)
    form = page.form(lambda f: "artist_ref" in f.names() and "message" in f.names(), "to ask for a cancellation")
    after = submit(buyer, form, message="I ordered twice by mistake.")
    assert "Your cancellation request was sent to" in after.text
    with shop.ctx():
        inbox_url = url_for("mirette_returns.artist_inbox")
    inbox = read(seller.get(inbox_url))
    [detail_url] = {href for _text, href in inbox.links if "/requests/" in href}
    refused = step(seller, detail_url, "refuse_order", confirm="1", note="Refunded in full.")
    # A marketplace's artist refuses their part; a shop selling alone cancels what it was asked to.
    expected = {"demo": "Order refused - refund initiated", "corner": "Order cancelled - refund initiated"}
    assert expected[shop.name] in refused.text
    assert shop.raw_stage(shop.pending_order) == shop.cancelled_value
    assert len(shop.refund_rows()) == 1
    pay_the_refund(shop)
    assert "Refunded" in read(buyer.get(detail_url)).text
    # Nothing is left to cancel; the button stays, to follow the request.
    again = open_return_request(shop, buyer, shop.pending_order)
    assert not [f for f in again.forms if "artist_ref" in f.names()]
    # Said once, by its lines: no second "already cancelled" below them.
    assert again.text.count("This part of the order was cancelled.") == 1
    assert "already cancelled" not in again.text


def test_pages_exchange_with_a_replacement_shipped(shop: ShopUnderTest):
    buyer, seller = shop.client(shop.buyer), shop.client(shop.seller)
    page = open_return_request(shop, buyer, shop.delivered_order)
    _order, line = shop.line(shop.delivered_order, shop.line_product)
    [href] = [href for text, href in page.links if text == "Request return" and f"/lines/{line.ref}/" in href]
    form = read(buyer.get(href)).form(lambda f: "reason_code" in f.names())
    wanted = [value for name, kind, value, _ in form.fields if name == "wanted_ref" and kind == "option" and value]
    assert wanted, "the form offers the other variants"
    detail = submit(buyer, form, quantity="1", kind="exchange", reason_code="wrong_size", wanted_ref=wanted[0])
    assert "Exchange" in detail.text
    url = detail.url
    step(seller, url, "accept", note="Send it back, I will post the other one.")
    step(buyer, url, "ship_back", tracking="")
    step(seller, url, "receive")
    assert "Replacement shipped" in step(seller, url, "ship_replacement", tracking="NEW-1").text
    assert f"{line.quantity} returnable now" in open_return_request(shop, buyer, shop.delivered_order).text
    assert shop.refund_rows() == []


def test_pages_withdraw(shop: ShopUnderTest):
    buyer = shop.client(shop.buyer)
    detail, line = request_return(shop, buyer, quantity="1", kind="return", reason_code="changed_mind")
    page = open_return_request(shop, buyer, shop.delivered_order)
    assert f"{line.quantity - 1} returnable now" in page.text
    withdrawn = step(buyer, detail.url, "withdraw", confirm="1")
    assert "Withdrawn" in withdrawn.text
    assert fresh(shop, request_id_of(detail)).status == Status.WITHDRAWN
    assert f"{line.quantity} returnable now" in open_return_request(shop, buyer, shop.delivered_order).text


def test_a_post_without_the_forms_token_is_refused_and_changes_nothing(shop: ShopUnderTest):
    buyer = shop.client(shop.buyer)
    page = open_return_request(shop, buyer, shop.delivered_order)
    _order, line = shop.line(shop.delivered_order, shop.line_product)
    [href] = [href for text, href in page.links if text == "Request return" and f"/lines/{line.ref}/" in href]
    form = read(buyer.get(href)).form(lambda f: "reason_code" in f.names())
    data = form.data(quantity="1", kind="return", reason_code="changed_mind")
    data["csrf_token"] = "forged"
    response = buyer.post(form.action, data=data)
    assert response.status_code == 400
    # The plugin's own check (demo) or the shop's CSRFProtect (corner) answers.
    refusal = read(response).text
    assert "has expired" in refusal or "The CSRF token is invalid." in refusal
    with shop.app.app_context():
        assert current_state().session.scalar(sa.select(sa.func.count()).select_from(Request)) == 0


def test_both_shops_expose_the_same_plugin_to_their_people(shop: ShopUnderTest):
    """Same public API: the plugin's pages render inside each shop's own layout."""
    buyer = shop.client(shop.buyer)
    page = open_return_request(shop, buyer, shop.delivered_order)
    assert "Return Request" in page.text and shop.line_product in page.text
    layout_marker = {"demo": "Mirette", "corner": "Corner Tea House"}[shop.name]
    assert layout_marker in page.text
    stylesheet = "corner.css" if shop.name == "corner" else "mirette-returns.css"
    assert stylesheet in page.html


def test_the_example_shops_stay_out_of_the_wheel():
    import configparser
    from pathlib import Path

    setup = configparser.ConfigParser()
    setup.read(Path(__file__).resolve().parent.parent / "setup.cfg")
    packages = setup["options"]["packages"].split()
    assert packages and not [name for name in packages if name.split(".")[0] == "examples"]
