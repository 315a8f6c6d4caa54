"""The demo shop: it seeds itself, its own pages, the mailbox, the payments
page, the account and language switches, and its security headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo import create_app, mail_settings
from mirette_returns_plugin.demo.models import (
    Account,
    ArtistProfile,
    PaymentRefund,
    Product,
    Shipment,
    ShopOrder,
    db,
)
from mirette_returns_plugin.demo.security import CONTENT_SECURITY_POLICY
from mirette_returns_plugin.demo.story import STORY_ORDERS
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import HistoryEntry, OutboxEmail, Request
from mirette_returns_plugin.send_on_commit import wait_for_background
from mirette_returns_plugin.workflow import ReturnForm
from tests.shop import ALEX, BOIS, CAMILLE, LUNE, SUPPORT, VERRE, account, line_ref, login, order_ref, user

EVERY_STAGE = {"paid", "accepted", "shipped", "delivered", "cancelled"}


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:2000])
    return response.get_data(as_text=True)


def csrf_token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def in_english(client: FlaskClient) -> FlaskClient:
    """Camille reads French; the amounts below are written the English way."""
    with client.session_transaction() as session:
        session["locale"] = "en"
    return client


def signed_in_id(client: FlaskClient) -> int | None:
    with client.session_transaction() as session:
        return session.get("account_id")


def id_of(number: str) -> int:
    with_app = db.session.scalar(sa.select(ShopOrder.id).where(ShopOrder.number == number))
    assert with_app is not None, number
    return with_app


@pytest.fixture
def reader(client_as):
    """``reader(email)``: a client signed in as that account, reading English
    (Camille and Atelier Lune read French; the checks below are in English)."""

    def make(email: str | None) -> FlaskClient:
        return in_english(client_as(email))

    return make


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[Flask]:
    """A demo app started the way the README starts it: on a new SQLite file."""
    database = tmp_path / "fresh-demo.sqlite3"
    assert not database.exists()
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "MIRETTE_RETURNS_PHOTO_DIR": str(tmp_path / "photos"),
        "WTF_CSRF_ENABLED": False,
    })
    assert database.exists()
    yield app
    wait_for_background(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def refund_waiting_for_payment() -> Request:
    """Camille returns one mug of MIR-1004 and Atelier Lune initiates the refund."""
    camille, lune = user(CAMILLE), user(LUNE)
    request = workflow.submit_return(camille, order_ref("MIR-1004"), ReturnForm(
        line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="changed_mind"))
    workflow.perform(lune, request.id, "accept", note="Use the prepaid label in the parcel.")
    workflow.perform(camille, request.id, "ship_back", tracking="LP123456789FR")
    workflow.perform(lune, request.id, "receive")
    request = workflow.perform(lune, request.id, "initiate_refund")
    assert request.status == "refund_initiated"
    return request


# --------------------------------------------------------------------------- #
# A fresh start
# --------------------------------------------------------------------------- #


def test_a_fresh_start_creates_and_seeds_the_database(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        emails = set(db.session.scalars(sa.select(Account.email)))
        assert {CAMILLE, ALEX, LUNE, BOIS, VERRE, SUPPORT} <= emails
        assert db.session.scalar(sa.select(Account.is_support).where(Account.email == SUPPORT)) is True

        artists = db.session.scalars(sa.select(ArtistProfile)).all()
        policies = {(a.return_window_days, a.refunds_delivery, a.return_shipping_paid_by, a.restocking_fee_percent)
                    for a in artists}
        assert len(artists) == 3 and len(policies) == 3, "three artists with three different policies"

        stages = set(db.session.scalars(sa.select(Shipment.state)))
        assert stages == EVERY_STAGE
        parts_per_order = db.session.execute(
            sa.select(ShopOrder.number, sa.func.count(Shipment.id)).join(Shipment).group_by(ShopOrder.number)
        ).all()
        assert {count for _number, count in parts_per_order} >= {1, 2, 3}, "orders from one and several artists"

        # The story's requests went through the plugin's workflow.
        statuses = {r.order_number: r.status for r in db.session.scalars(sa.select(Request))}
        assert statuses == {"MIR-2003": "shipped_back", "MIR-2004": "refund_initiated", "MIR-2005": "refunded"}
        payments = {p.order.number: p.paid for p in db.session.scalars(sa.select(PaymentRefund))}
        assert payments == {"MIR-2004": False, "MIR-2005": True}
        assert db.session.scalar(sa.select(sa.func.count(OutboxEmail.id))) > 0

    client = fresh_app.test_client()
    home = page(client, "/")
    for name in ("Speckled mug", "Oak chopping board", "Blown glass vase", "Atelier Lune", "Bois &amp; Fil"):
        assert name in home
    login(client, SUPPORT)  # the mailbox is the staff's
    mailbox = page(client, "/mailbox/")
    assert "alex@buyers.example" in mailbox and "MIR-2004" in mailbox


def test_a_second_start_keeps_the_data(fresh_app: Flask) -> None:
    wait_for_background(fresh_app)
    with fresh_app.app_context():
        db.session.execute(sa.update(Account).where(Account.email == CAMILLE).values(name="Camille M."))
        db.session.commit()
        url = str(db.engine.url)
        db.session.remove()
    again = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    wait_for_background(again)
    with again.app_context():
        assert db.session.scalar(sa.select(Account.name).where(Account.email == CAMILLE)) == "Camille M."
        assert db.session.scalar(sa.select(sa.func.count(ShopOrder.id)).where(ShopOrder.number == "MIR-1004")) == 1
        db.session.remove()
        db.engine.dispose()


def test_demo_reset_drops_and_seeds_again(fresh_app: Flask) -> None:
    wait_for_background(fresh_app)
    with fresh_app.app_context():
        db.session.execute(sa.update(Account).where(Account.email == CAMILLE).values(name="Someone else"))
        db.session.execute(sa.delete(OutboxEmail))
        db.session.commit()
        db.session.remove()
    result = fresh_app.test_cli_runner().invoke(args=["demo-reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert "reset" in result.output
    with fresh_app.app_context():
        assert db.session.scalar(sa.select(Account.name).where(Account.email == CAMILLE)) == "Camille Martin"
        numbers = set(db.session.scalars(sa.select(ShopOrder.number)))
        assert numbers == {"MIR-1001", "MIR-1002", "MIR-1003", "MIR-1004", "MIR-1005", "MIR-2001", "MIR-2002",
                           *STORY_ORDERS}
        assert db.session.scalar(sa.select(sa.func.count(OutboxEmail.id))) > 0
        assert db.session.scalar(sa.select(sa.func.count(Request.id))) == 3


def test_demo_reset_asks_first(fresh_app: Flask) -> None:
    result = fresh_app.test_cli_runner().invoke(args=["demo-reset"], input="n\n")
    assert result.exit_code != 0
    with fresh_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Request.id))) == 3


# --------------------------------------------------------------------------- #
# Accounts and languages
# --------------------------------------------------------------------------- #


def test_switching_account_signs_in_and_lands_on_the_role_s_page(app: Flask) -> None:
    client = in_english(app.test_client())
    switch = page(client, "/switch")
    for email in (CAMILLE, ALEX, LUNE, BOIS, VERRE, SUPPORT):
        assert email in switch
    assert "Return or exchange the speckled mugs of MIR-1004" in switch

    with app.test_request_context():
        lune_id, camille_id, support_id = (account(e).id for e in (LUNE, CAMILLE, SUPPORT))
        inbox, support_list = url_for("mirette_returns.artist_inbox"), url_for("mirette_returns.support_list")

    response = client.post("/switch", data={"account_id": lune_id})
    assert response.status_code == 303 and response.location.endswith(inbox)
    assert signed_in_id(client) == lune_id
    inbox_page = page(client, inbox)
    assert "Atelier Lune" in inbox_page and "You are now signed in as Atelier Lune." in inbox_page

    response = client.post("/switch", data={"account_id": support_id})
    assert response.location.endswith(support_list)
    response = client.post("/switch", data={"account_id": camille_id})
    assert response.location.endswith("/orders")
    assert "Order MIR-1004" in page(client, "/orders")


def test_switching_to_an_unknown_account_changes_nothing(app: Flask) -> None:
    client = app.test_client()
    for value in ("999999", "not-a-number", ""):
        response = client.post("/switch", data={"account_id": value})
        assert response.status_code == 400
        assert "Choose one of the accounts below." in response.get_data(as_text=True)
        assert signed_in_id(client) is None


def test_forms_need_their_csrf_token(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    with app.app_context():
        camille_id = account(CAMILLE).id

    refused = client.post("/switch", data={"account_id": camille_id})
    assert refused.status_code == 400
    assert "This form has expired" in refused.get_data(as_text=True)
    assert signed_in_id(client) is None
    refused = client.post("/language", data={"locale": "fr", "next": "/"})
    assert refused.status_code == 400
    with client.session_transaction() as session:
        assert "locale" not in session

    token = csrf_token_of(page(client, "/switch"))
    accepted = client.post("/switch", data={"account_id": camille_id, "csrf_token": token})
    assert accepted.status_code == 303
    assert signed_in_id(client) == camille_id


def test_signing_out(app: Flask, reader) -> None:
    client = reader(CAMILLE)
    response = client.post("/sign-out")
    assert response.status_code == 303
    assert signed_in_id(client) is None
    assert "Browsing as a visitor" in page(client, "/")


def test_the_language_switch_sets_the_session_language(app: Flask, client_as) -> None:
    client = client_as(ALEX)
    assert '<html lang="en">' in page(client, "/orders")
    response = client.post("/language", data={"locale": "fr", "next": "/orders"})
    assert response.status_code == 303 and response.location.endswith("/orders")
    with client.session_transaction() as session:
        assert session["locale"] == "fr"
    orders = page(client, "/orders")
    assert '<html lang="fr">' in orders
    assert "95,90" in orders and "95.90" not in orders, "MIR-2001's total, written the French way"

    # A language the shop does not offer, and a way out of the site, are refused.
    response = client.post("/language", data={"locale": "xx", "next": "/orders"})
    with client.session_transaction() as session:
        assert session["locale"] == "fr"
    # Said in the language the page is in.
    assert "Cette langue n&#39;est pas disponible." in page(client, response.location)
    response = client.post("/language", data={"locale": "en", "next": "//evil.example/"})
    assert response.status_code == 303
    assert "evil.example" not in response.location


# --------------------------------------------------------------------------- #
# The shop's pages
# --------------------------------------------------------------------------- #


def test_the_orders_page_lists_the_buyer_s_orders(app: Flask, reader) -> None:
    orders = page(reader(CAMILLE), "/orders")
    for number in ("MIR-1001", "MIR-1002", "MIR-1003", "MIR-1004", "MIR-1005"):
        assert f"Order {number}" in orders
    assert "MIR-2001" not in orders
    assert "Paid · waiting for the artist" in orders and "Accepted · being prepared" in orders
    assert "Shipped" in orders and "Delivered on" in orders
    # MIR-1004: 4 mugs at 24.00 + a bowl at 58.00 + 6.90, and a vase at 89.00 + 6.90.
    assert "Total €256.80" in orders


def test_a_visitor_is_sent_to_choose_an_account(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/orders")
    assert response.status_code == 302 and response.location.endswith("/switch")
    assert "Choose an account to see its orders." in page(client, "/switch")


def test_the_order_page_shows_each_artist_s_part(app: Flask, reader) -> None:
    client = reader(CAMILLE)
    with app.app_context():
        mir_1002, mir_1004 = id_of("MIR-1002"), id_of("MIR-1004")
    several = page(client, f"/orders/{mir_1002}")
    for artist in ("Atelier Lune", "Bois &amp; Fil", "Verre Soufflé"):
        assert artist in several
    assert several.count("Paid · waiting for the artist") == 2 and "Accepted · being prepared" in several

    delivered = page(client, f"/orders/{mir_1004}")
    assert "Speckled mug" in delivered and "Night blue" in delivered
    assert re.search(r'class="num"[^>]*>4</td>', delivered), "the quantity of mugs"
    assert "€24.00" in delivered and "€96.00" in delivered and "€6.90" in delivered
    assert "/demo-static/products/mug.svg" in delivered
    assert "Order total <strong>€256.80</strong>" in delivered


def test_the_order_page_has_the_return_request_button_when_something_is_returnable(app: Flask, reader) -> None:
    client = reader(CAMILLE)
    with app.test_request_context():
        returnable = order_ref("MIR-1004")
        expired = order_ref("MIR-1005")
        target = url_for("mirette_returns.order_requests", order_ref=returnable)
    html = page(client, f"/orders/{returnable}")
    button = re.search(r'<a class="button" href="([^"]+)">Return Request</a>', html)
    assert button and button.group(1).endswith(target)
    # Verre Soufflé's 7 days ended long ago, and it cannot be cancelled.
    assert "Return Request" not in page(client, f"/orders/{expired}")


def test_someone_else_s_order_is_not_found(app: Flask, reader) -> None:
    with app.app_context():
        mir_1004 = id_of("MIR-1004")
    html = page(reader(ALEX), f"/orders/{mir_1004}", status=404)
    assert "Page not found" in html and "Speckled mug" not in html
    assert "Page not found" in page(reader(ALEX), "/orders/999999", status=404)


def test_the_product_page_shows_the_artist_s_return_policy(app: Flask) -> None:
    with app.app_context():
        mug = db.session.scalar(sa.select(Product).where(Product.name == "Speckled mug"))
        mug_id, lune_id = mug.id, mug.artist_id
    html = page(app.test_client(), f"/products/{mug_id}")
    assert "Speckled mug" in html and "€24.00" in html
    for variant in ("Sand", "Night blue", "Moss"):
        assert variant in html
    assert "Return policy of Atelier Lune" in html
    assert "Returns accepted within 14 days of delivery." in html
    assert "Delivery costs are refunded with the items." in html
    assert "The artist pays the return shipping." in html
    assert f'href="/artists/{lune_id}#policy"' in html


def test_a_final_sale_says_so(app: Flask) -> None:
    with app.app_context():
        cup_id = db.session.scalar(sa.select(Product.id).where(Product.final_sale.is_(True)))
    assert cup_id is not None
    assert "Final sale: this piece cannot be returned or exchanged." in page(app.test_client(), f"/products/{cup_id}")


@pytest.mark.parametrize(("email", "expected"), [
    (LUNE, ["14 days after delivery", "Refunded", "Paid by the artist", "None"]),
    (BOIS, ["30 days after delivery", "Not refunded", "Paid by the buyer", "10%"]),
    (VERRE, ["7 days after delivery", "Not refunded", "Paid by the buyer", "None"]),
])
def test_each_artist_page_shows_the_full_policy(app: Flask, email: str, expected: list[str]) -> None:
    with app.app_context():
        artist = account(email).artist
        artist_id, craft, words = artist.id, artist.craft, artist.policy_text
        products = [p.name for p in artist.products]
    html = page(app.test_client(), f"/artists/{artist_id}")
    cells = re.findall(r"<dd>([^<]+)</dd>", html)
    assert cells == expected
    assert craft in html and words.replace("'", "&#39;") in html
    for name in products:
        assert name in html


# --------------------------------------------------------------------------- #
# Mailbox
# --------------------------------------------------------------------------- #


def test_the_mailbox_shows_the_email_a_request_sends(app: Flask, ctx, reader) -> None:
    client = reader(SUPPORT)
    assert "No email yet." in page(client, "/mailbox/")
    workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), ReturnForm(
        line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="changed_mind",
        comment="A little too big for me."))
    to_artist = WrittenEmail(db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.recipient == LUNE)).one())

    listing = page(client, "/mailbox/")
    assert LUNE in listing and to_artist.subject in listing
    assert f'href="/mailbox/{to_artist.id}"' in listing
    assert to_artist.subject not in page(client, f"/mailbox/?to={CAMILLE}")
    assert to_artist.subject in page(client, f"/mailbox/?to={LUNE}")

    reading = page(client, f"/mailbox/{to_artist.id}")
    assert "A little too big for me." in reading, "the text version"
    assert f'<iframe class="email-frame" sandbox src="/mailbox/{to_artist.id}/html"' in reading
    assert "srcdoc" not in reading
    assert "/returns/requests/" in reading, "the email's link, to open it from the mailbox"

    body = client.get(f"/mailbox/{to_artist.id}/html")
    assert body.mimetype == "text/html"
    assert body.get_data(as_text=True) == to_artist.body_html
    policy = body.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'self'" in policy
    assert page(client, "/mailbox/999999", status=404)


def test_demo_emails_are_recorded_without_a_mail_server() -> None:
    assert mail_settings({}) == {"MAIL_SUPPRESS_SEND": True}
    settings = mail_settings({"DEMO_MAIL_SERVER": "smtp.example", "DEMO_MAIL_PORT": "2525",
                              "DEMO_MAIL_USE_TLS": "true", "DEMO_MAIL_USERNAME": "shop"})
    assert settings == {"MAIL_SUPPRESS_SEND": False, "MAIL_SERVER": "smtp.example", "MAIL_PORT": 2525,
                        "MAIL_USE_TLS": True, "MAIL_USERNAME": "shop"}


def test_demo_mail_server_variables_send_through_smtp(tmp_path: Path, smtp, monkeypatch) -> None:
    monkeypatch.setenv("DEMO_MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("DEMO_MAIL_PORT", str(smtp.port))
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'smtp-demo.sqlite3'}",
        "MIRETTE_RETURNS_PHOTO_DIR": str(tmp_path / "photos"),
    })
    try:
        wait_for_background(app)
        with app.app_context():
            outbox = db.session.scalars(sa.select(OutboxEmail)).all()
            assert outbox and {e.state for e in outbox} == {"sent"}
        assert len(smtp.arrived) == len(outbox)
        assert any("MIR-2004" in m.subject for m in smtp.to(ALEX))
    finally:
        wait_for_background(app)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --------------------------------------------------------------------------- #
# Payments
# --------------------------------------------------------------------------- #


def test_mark_as_paid_moves_the_refund_to_refunded(app: Flask, ctx, reader) -> None:
    request = refund_waiting_for_payment()
    payment = db.session.scalars(sa.select(PaymentRefund)).one()
    assert not payment.paid and payment.amount == request.refund_total
    emails_before = db.session.scalar(sa.select(sa.func.count(OutboxEmail.id)).where(OutboxEmail.recipient == CAMILLE))

    client = reader(SUPPORT)
    listing = page(client, "/payments/")
    assert "MIR-1004" in listing and "Camille Martin" in listing and "Return · Atelier Lune" in listing
    assert f'action="/payments/{payment.id}/paid"' in listing and "Mark as paid" in listing

    response = client.post(f"/payments/{payment.id}/paid")
    assert response.status_code == 303
    after = page(client, response.location)
    assert f"The refund of €{payment.amount} is paid. The buyer has been emailed." in after
    assert "Mark as paid" not in after and "Paid on" in after

    db.session.expire_all()
    assert db.session.get(PaymentRefund, payment.id).paid is True
    assert db.session.get(Request, request.id).status == "refunded"
    emails_after = db.session.scalar(sa.select(sa.func.count(OutboxEmail.id)).where(OutboxEmail.recipient == CAMILLE))
    assert emails_after > emails_before, "the buyer is told"

    # A second click pays nothing more and writes no history.
    history = db.session.scalar(sa.select(sa.func.count(HistoryEntry.id)).where(HistoryEntry.request_id == request.id))
    again = client.post(f"/payments/{payment.id}/paid", follow_redirects=True)
    assert "This refund was already paid; nothing changed." in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(
        sa.select(sa.func.count(HistoryEntry.id)).where(HistoryEntry.request_id == request.id)) == history


def test_mark_as_paid_refuses_a_form_without_token_and_an_unknown_refund(app: Flask, ctx, reader) -> None:
    refund_waiting_for_payment()
    payment = db.session.scalars(sa.select(PaymentRefund)).one()
    client = reader(SUPPORT)
    assert "Page not found" in client.post("/payments/999999/paid").get_data(as_text=True)

    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.post(f"/payments/{payment.id}/paid")
    assert refused.status_code == 400 and "This form has expired" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PaymentRefund, payment.id).paid is False

    waiting = page(client, "/payments/?show=waiting")
    assert "Mark as paid" in waiting


# --------------------------------------------------------------------------- #
# Every page, every role: layout, navigation, security headers
# --------------------------------------------------------------------------- #

ROLES = {"visitor": None, "buyer": CAMILLE, "artist": LUNE, "support": SUPPORT}


def _urls_for(app: Flask, email: str | None) -> list[str]:
    with app.test_request_context():
        mug = db.session.scalar(sa.select(Product.id).where(Product.name == "Speckled mug"))
        lune = account(LUNE).artist_id
        urls = ["/", "/switch", f"/products/{mug}", f"/artists/{lune}",
                "/demo-static/shop.css", "/demo-static/products/vase.svg"]
        if email:
            urls.append("/orders")
        if email == CAMILLE:
            urls += [f"/orders/{id_of('MIR-1004')}",
                     url_for("mirette_returns.order_requests", order_ref=order_ref("MIR-1004"))]
        if email == LUNE:
            urls.append(url_for("mirette_returns.artist_inbox"))
        if email == SUPPORT:
            urls += [url_for("mirette_returns.support_list"), "/mailbox/", "/payments/"]
    return urls


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_carries_the_security_headers_and_no_inline_code(app: Flask, reader, role: str) -> None:
    client = reader(ROLES[role])
    for url in _urls_for(app, ROLES[role]):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"] == "same-origin", url
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script on {url}"
            assert not re.search(r"<style\b", html) and " style=" not in html, f"inline style on {url}"
            assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {url}"
        response.close()
    assert client.get("/no-such-page").headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("role", list(ROLES))
def test_pages_render_in_the_shop_layout_for_each_role(app: Flask, reader, role: str) -> None:
    email = ROLES[role]
    client = reader(email)
    for url in _urls_for(app, email):
        if url.startswith("/demo-static/"):
            continue
        html = page(client, url)
        assert 'class="site-header"' in html and "<main id=\"content\"" in html and "</footer>" in html, url
        assert ">Switch account</a>" in html
        assert (">Mailbox</a>" in html and ">Payments</a>" in html) == (email == SUPPORT), url
        assert (">My orders</a>" in html) == (email is not None), url
        assert (">Artist inbox</a>" in html) == (email == LUNE), url
        assert (">Support</a>" in html) == (email == SUPPORT), url
        if email is None:
            assert "Browsing as a visitor" in html
        else:
            with app.app_context():
                name = account(email).name
            expected_role = {CAMILLE: "Buyer", LUNE: "Artist", SUPPORT: "Support team"}[email]
            assert re.search(rf"<strong>{re.escape(name)}</strong>\s*<span class=\"role-tag[^\"]*\">{expected_role}<",
                             html), url


# --------------------------------------------------------------------------- #
# The back office is the staff's, and the demo's forms are bounded
# --------------------------------------------------------------------------- #


def test_mailbox_and_payments_are_for_the_support_team_only(app: Flask, ctx, reader) -> None:
    refund_waiting_for_payment()
    payment = db.session.scalars(sa.select(PaymentRefund)).one()
    email = WrittenEmail(db.session.scalars(sa.select(OutboxEmail)).first())
    back_office = ["/mailbox/", f"/mailbox/{email.id}", f"/mailbox/{email.id}/html", "/payments/"]

    visitor = reader(None)
    for url in back_office:
        response = visitor.get(url)
        assert response.status_code == 303 and response.location == "/switch", url
    switch = page(visitor, "/switch")
    assert "Sign in as the support team to see this page." in switch and email.subject not in switch
    assert visitor.post(f"/payments/{payment.id}/paid").status_code == 303

    for person in (CAMILLE, LUNE):
        client = reader(person)
        for url in back_office:
            response = client.get(url)
            assert response.status_code == 403, (person, url)
            assert email.subject not in response.get_data(as_text=True)
        assert client.post(f"/payments/{payment.id}/paid").status_code == 403
    db.session.expire_all()
    assert db.session.get(PaymentRefund, payment.id).paid is False, "nobody but the staff marks a refund paid"

    support = reader(SUPPORT)
    assert all(support.get(url).status_code == 200 for url in back_office)


def test_the_demo_s_forms_refuse_a_large_post_before_reading_it(app: Flask, ctx, reader) -> None:
    refund_waiting_for_payment()
    payment = db.session.scalars(sa.select(PaymentRefund)).one()
    support = reader(SUPPORT)
    padding = "x" * 20_000
    for url, form in ((f"/payments/{payment.id}/paid", {"padding": padding}),
                      ("/language", {"locale": "fr", "next": "/" + padding}),
                      ("/switch", {"account_id": "1", "padding": padding}),
                      ("/sign-out", {"padding": padding})):
        response = support.post(url, data=form)
        assert response.status_code == 413, url
        assert "What you sent is too large" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PaymentRefund, payment.id).paid is False
    assert signed_in_id(support) == account(SUPPORT).id, "still signed in: the sign-out was refused"
    assert support.post(f"/payments/{payment.id}/paid").status_code == 303
