"""Harbour Prints, the shop built the way most Flask shops are, mounted by
following docs/mount.md alone: the return and cancellation stories through
its pages, as its people would, with its app-wide ``CSRFProtect`` on, and
the emails the worker sends to a real SMTP server.

The shop keeps a payment status and a shipping status as two integer columns
and no delivery date; its payment provider confirms refunds through a signed
webhook that the shop exempts from CSRF.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from io import BytesIO

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from examples.bootstrap_shop import create_app
from examples.bootstrap_shop.models import Order, ProviderRefund, ShippingStatus, db
from examples.bootstrap_shop.payments import signature
from examples.bootstrap_shop.seed import PASSWORD, seed
from mirette_returns_plugin.models import Base as ReturnsBase, Photo, Request
from mirette_returns_plugin.workflow import Status
from tests.example_shops import Page, read, submit
from tests.fixtures_mail import SMTPServer

BUYER, ARTIST, SUPPORT = "nora@buyers.example", "iris@harbourprints.example", "milo@harbourprints.example"
#: The seller's address, from the mapping's SingleSeller.
STUDIO = "studio@harbourprints.example"
BASE_URL = "https://harbourprints.example"


@pytest.fixture
def shop(_schema: None, database_url: str, tmp_path, smtp: SMTPServer) -> Iterator[Flask]:
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "HARBOUR_SEED": False,
        # As in production: the app-wide CSRFProtect checks every post.
        "WTF_CSRF_ENABLED": True,
        "MIRETTE_RETURNS_PHOTO_DIR": str(tmp_path / "photos"),
        "MIRETTE_RETURNS_EXTERNAL_BASE_URL": BASE_URL,
        "MAIL_SERVER": smtp.flask_config()["MAIL_SERVER"],
        "MAIL_PORT": smtp.port,
        "MAIL_SUPPRESS_SEND": False,
    })
    with app.app_context():
        db.create_all()
        ReturnsBase.metadata.create_all(db.engine)
        with db.engine.begin() as connection:
            for table in [*reversed(ReturnsBase.metadata.sorted_tables), *reversed(db.metadata.sorted_tables)]:
                connection.execute(table.delete())
        seed()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def signed_in(app: Flask, email: str) -> FlaskClient:
    """A browser that signed in through the shop's own form (Flask-Login)."""
    client = app.test_client()
    form = read(client.get("/login")).form(lambda f: "password" in f.names(), "to sign in")
    assert "csrf_token" in form.names()
    after = submit(client, form, email=email, password=PASSWORD)
    assert after.url == "/orders" and "Sign out" in after.text, after.text[:300]
    return client


def png() -> bytes:
    out = BytesIO()
    Image.new("RGB", (64, 48), (40, 90, 140)).save(out, "PNG")
    return out.getvalue()


def post_with_photo(client: FlaskClient, form, **values: str) -> Page:
    data = {**form.data(**values), "photos": (BytesIO(png()), "torn-corner.png")}
    return read(client.post(form.action, data=data, content_type="multipart/form-data", follow_redirects=True))


def step(client: FlaskClient, url: str, action: str, **values: str) -> Page:
    return submit(client, read(client.get(url)).action_form(action), **values)


def deliver_emails(app: Flask) -> None:
    """What the shop's cron runs every minute."""
    result = app.test_cli_runner().invoke(args=["mirette-returns", "send-emails"])
    assert result.exit_code == 0, result.output


def provider_confirms(app: Flask, *, forged: bool = False) -> int:
    """The payment provider calls the shop's webhook, with no CSRF token, signed."""
    with app.app_context():
        (refund,) = db.session.scalars(sa.select(ProviderRefund).where(ProviderRefund.succeeded.is_(False))).all()
        body = json.dumps({"type": "refund.succeeded", "idempotency_key": refund.idempotency_key,
                           "refund_id": refund.provider_ref}).encode()
        sign = "0" * 64 if forged else signature(body)
    response = app.test_client().post("/payments/webhook", data=body, content_type="application/json",
                                      headers={"X-Signature": sign})
    return response.status_code


def provider_refunds(app: Flask) -> list[tuple[str, Decimal, bool]]:
    with app.app_context():
        return [(r.order_number, r.amount, r.succeeded)
                for r in db.session.scalars(sa.select(ProviderRefund).order_by(ProviderRefund.id))]


def shipping_status(app: Flask, number: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Order.shipping_status).where(Order.number == number))


def request_row(app: Flask, request_id: int) -> Request:
    with app.app_context():
        row = db.session.get(Request, request_id)
        db.session.expunge(row)
        return row


def open_return_request(client: FlaskClient, number: str) -> Page:
    """From the shop's own order page, the plugin's button."""
    order_page = read(client.get(f"/orders/{number}"))
    return read(client.get(order_page.link("Return Request")))


def from_the_navigation(client: FlaskClient, label: str) -> Page:
    """The shop's navigation bar links to the plugin's pages (returns_nav_links)."""
    return read(client.get(read(client.get("/orders")).link(label)))


def test_return_with_photo_refunded_through_the_webhook_under_csrf_protect(shop: Flask, smtp: SMTPServer):
    buyer = signed_in(shop, BUYER)
    page = open_return_request(buyer, "HP-2002")
    [href] = [href for text, href in page.links if text == "Request return"]  # the commission is a final sale
    form = read(buyer.get(href)).form(lambda f: "reason_code" in f.names(), "to request a return")
    assert "csrf_token" in form.names()
    detail = post_with_photo(buyer, form, quantity="1", kind="return", reason_code="damaged",
                             comment="The corner of the print is torn.")
    assert "Requested" in detail.text and "The corner of the print is torn." in detail.text
    url, request_id = detail.url, int(detail.url.rstrip("/").rsplit("/", 1)[-1])
    with shop.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 1

    artist = signed_in(shop, ARTIST)
    inbox = from_the_navigation(artist, "Requests on my items")
    assert url in {href for _text, href in inbox.links}
    accepted = step(artist, url, "accept", note="Roll it back into its tube, the label is in the box.")
    assert "Accepted - return instructions given" in accepted.text
    buyer_view = read(buyer.get(url))
    assert "Roll it back into its tube, the label is in the box." in buyer_view.text
    assert "Sent back" in submit(buyer, buyer_view.action_form("ship_back"), tracking="HB123456").text
    assert "Product received - reimbursement can be initiated" in step(artist, url, "receive").text
    assert "Refund initiated" in step(artist, url, "initiate_refund").text
    [(number, amount, succeeded)] = provider_refunds(shop)
    assert (number, succeeded) == ("HP-2002", False)
    assert amount == request_row(shop, request_id).refund_total >= Decimal("45.00")

    # The provider cannot send a token: a forged signature is refused, the real one confirms.
    assert provider_confirms(shop, forged=True) == 400
    assert request_row(shop, request_id).status == Status.REFUND_INITIATED
    assert provider_confirms(shop) == 200
    assert provider_refunds(shop)[0][2] is True
    assert request_row(shop, request_id).status == Status.REFUNDED
    assert "Refunded" in read(buyer.get(url)).text

    deliver_emails(shop)
    to_buyer = smtp.to(BUYER)
    assert any("Roll it back into its tube" in mail.text for mail in to_buyer)
    assert any("Refunded" in mail.subject or "refunded" in mail.text.lower() for mail in to_buyer)
    assert smtp.to(STUDIO), "the seller is told of the new request"
    assert all(mail.envelope_from == "studio@harbourprints.example" for mail in smtp.arrived)
    assert f"{BASE_URL}/returns/requests/{request_id}" in to_buyer[-1].text


def test_cancellation_of_a_paid_order_refunded_through_the_webhook(shop: Flask, smtp: SMTPServer):
    buyer, artist = signed_in(shop, BUYER), signed_in(shop, ARTIST)
    page = open_return_request(buyer, "HP-2001")
    form = page.form(lambda f: "artist_ref" in f.names() and "message" in f.names(), "to ask for a cancellation")
    after = submit(buyer, form, message="Ordered the wrong size, sorry.")
    assert "Your cancellation request was sent to" in after.text
    inbox = from_the_navigation(artist, "Requests on my items")
    [url] = {href for _text, href in inbox.links if "/requests/" in href}
    refused = step(artist, url, "refuse_order", confirm="1", note="Cancelled, the money is on its way back.")
    assert "Order cancelled - refund initiated" in refused.text
    # The refusal wrote the shop's own cancelled code (refuse_writes); the payment status is the provider's.
    assert shipping_status(shop, "HP-2001") == ShippingStatus.CANCELLED
    [(number, amount, _succeeded)] = provider_refunds(shop)
    assert (number, amount) == ("HP-2001", Decimal("34.50"))  # the print and its shipping
    assert provider_confirms(shop) == 200
    assert "Refunded" in read(buyer.get(url)).text
    again = open_return_request(buyer, "HP-2001")
    # Said once, by its lines.
    assert again.text.count("This part of the order was cancelled.") == 1 and "already cancelled" not in again.text

    deliver_emails(shop)
    assert smtp.to(STUDIO) and smtp.to(BUYER)
    assert any("Cancelled, the money is on its way back." in mail.text for mail in smtp.to(BUYER))


def test_without_a_delivery_date_the_window_counts_from_the_order_date(shop: Flask):
    buyer = signed_in(shop, BUYER)
    # HP-2004 was ordered (and shipped) 45 days ago; the window is 30 days.
    assert "Return Request" not in read(buyer.get("/orders/HP-2004")).text
    with shop.test_request_context():
        from flask import url_for

        url = url_for("mirette_returns.order_requests", order_ref="HP-2004")
    page = read(buyer.get(url))
    deadline = (datetime.now(timezone.utc) - timedelta(days=45) + timedelta(days=30)).strftime("%b %-d, %Y")
    assert f"The return period of 30 days ended on {deadline}." in page.text
    placed = (datetime.now(timezone.utc) - timedelta(days=45)).strftime("%b %-d, %Y")
    assert f"Shipped · the return window of 30 days counts from {placed}" in page.text
    assert "Request return" not in [text for text, _href in page.links]


def test_the_shop_checks_csrf_everywhere_but_its_webhook(shop: Flask):
    buyer = signed_in(shop, BUYER)
    page = open_return_request(buyer, "HP-2001")
    form = page.form(lambda f: "artist_ref" in f.names(), "to ask for a cancellation")
    data = form.data(message="No token")
    del data["csrf_token"]
    refused = buyer.post(form.action, data=data)
    assert refused.status_code == 400 and "The CSRF token is missing." in refused.get_data(as_text=True)
    with shop.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Request)) == 0
    assert buyer.post("/logout").status_code == 400  # the shop's own forms too


def test_support_finds_every_request_from_the_navigation(shop: Flask):
    buyer, support = signed_in(shop, BUYER), signed_in(shop, SUPPORT)
    page = open_return_request(buyer, "HP-2001")
    submit(buyer, page.form(lambda f: "artist_ref" in f.names()), message="Please cancel.")
    listing = from_the_navigation(support, "Every request")
    assert "HP-2001" in listing.text
    nav = read(buyer.get("/orders"))
    assert not [text for text, _href in nav.links if text in ("Requests on my items", "Every request")]


def test_an_unpaid_order_is_cancelled_without_a_refund(shop: Flask):
    buyer, artist = signed_in(shop, BUYER), signed_in(shop, ARTIST)
    page = open_return_request(buyer, "HP-2003")
    submit(buyer, page.form(lambda f: "artist_ref" in f.names()), message="I will not pay after all.")
    [url] = {href for _text, href in from_the_navigation(artist, "Requests on my items").links if "/requests/" in href}
    step(artist, url, "refuse_order", confirm="1", note="Cancelled.")
    assert shipping_status(shop, "HP-2003") == ShippingStatus.CANCELLED
    assert provider_refunds(shop) == []  # nothing was paid, nothing to refund
    page = read(buyer.get(url)).text
    assert "Refund initiated" not in page and "nothing was charged" in page


def test_a_one_seller_shop_speaks_as_the_shop(shop: Flask, smtp: SMTPServer):
    buyer = signed_in(shop, BUYER)
    page = open_return_request(buyer, "HP-2001")
    assert "each artist" not in page.text  # no marketplace sentence in a shop with one seller
    submit(buyer, page.form(lambda f: "artist_ref" in f.names()), message="Please cancel.")
    deliver_emails(shop)
    assert smtp.arrived and all("Harbour Prints" in mail.subject for mail in smtp.arrived)


def test_a_signed_out_buyer_following_an_email_link_signs_in_and_comes_back(shop: Flask):
    buyer = signed_in(shop, BUYER)
    page = open_return_request(buyer, "HP-2001")
    detail = submit(buyer, page.form(lambda f: "artist_ref" in f.names()), message="Please cancel.")
    stranger = shop.test_client()
    answer = stranger.get(detail.url)
    assert answer.status_code in (302, 303) and answer.headers["Location"].startswith("/login?next=")
    form = read(stranger.get(answer.headers["Location"])).form(lambda f: "password" in f.names())
    back = submit(stranger, form, email=BUYER, password=PASSWORD)
    assert back.url == detail.url and "Cancellation request · Requested" in back.text
