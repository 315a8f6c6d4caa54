"""The shop's own words, read by its buyers on pages and in emails.

The Corner Tea House sells alone: its buyers never read about artists or an
intermediary, never see a staff member's name (the shop's is shown for its
staff), read "cancelled" for a cancellation they asked for, and get emails
whose subjects carry the shop's name and whose Message-IDs its domain. The
demo, a marketplace, keeps its marketplace words.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from mirette_returns_plugin import delivery
from mirette_returns_plugin.errors import ConfigurationError
from tests.example_shops import Page, ShopUnderTest, corner_shop, read, reset_corner_shop, submit
from tests.fixtures_mail import ArrivedEmail, SMTPServer
from tests.test_example_shop_flows import open_return_request, pay_the_refund, step

#: Words a buyer of a shop that sells alone never reads.
MARKETPLACE_WORDS = ("artist", "artiste", "intermediary", "intermédiaire")
#: The Corner Tea House's staff (Priya packs and answers, Margaret owns the shop).
STAFF_NAMES = ("Priya", "Margaret")
ADA, BASTIEN = "ada@customers.example", "bastien@customers.example"


@pytest.fixture
def corner(app_config: dict, _schema: None, smtp: SMTPServer) -> Iterator[ShopUnderTest]:
    """The Corner Tea House, emailing through the test's SMTP server from its own address."""
    from examples.corner_shop import create_app

    mail = {key: value for key, value in smtp.flask_config().items() if key != "MAIL_DEFAULT_SENDER"}
    app = create_app({**app_config, **mail, "CORNER_SEED": False})
    reset_corner_shop(app)
    yield corner_shop(app)
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def assert_in_the_shops_words(text: str, where: str) -> None:
    lowered = text.lower()
    for word in MARKETPLACE_WORDS:
        assert word not in lowered, f"{where} says {word!r}: …{lowered[max(lowered.find(word) - 120, 0):][:240]}…"
    for name in STAFF_NAMES:
        assert name not in text, f"{where} shows the staff member {name!r}"


def delivered_to(shop: ShopUnderTest, smtp: SMTPServer, address: str) -> list[ArrivedEmail]:
    with shop.app.app_context():
        delivery.deliver()
    return smtp.to(address)


def walk_a_return(shop: ShopUnderTest, buyer_email: str, number: str, product: str) -> list[Page]:
    """A return from request to refund through the pages; the pages the buyer saw."""
    buyer, staff = shop.client(buyer_email), shop.client(shop.seller)
    order_page = read(buyer.get(shop.order_page(number)))
    [button] = [href for text, href in order_page.links if text in ("Return Request", "Demande de retour")]
    seen = [read(buyer.get(button))]
    _order, line = replace(shop, buyer=buyer_email).line(number, product)
    [href] = [href for text, href in seen[0].links if text in ("Request return", "Demander un retour")
              and f"/lines/{line.ref}/" in href]
    seen.append(read(buyer.get(href)))
    form = seen[-1].form(lambda f: "reason_code" in f.names(), "to request a return")
    seen.append(submit(buyer, form, quantity="1", kind="return", reason_code="changed_mind"))
    url = seen[-1].url
    step(staff, url, "accept", note="Post it back in its tin, please.")
    reply = read(staff.get(url)).form(lambda f: "body" in f.names(), "to write in the thread")
    submit(staff, reply, body="We will look at it the day it arrives.")
    seen.append(read(buyer.get(url)))
    seen.append(submit(buyer, seen[-1].action_form("ship_back"), tracking="RM12345GB"))
    step(staff, url, "receive")
    step(staff, url, "initiate_refund")
    pay_the_refund(shop)
    seen.append(read(buyer.get(url)))
    return seen


def walk_a_cancellation(shop: ShopUnderTest) -> list[Page]:
    buyer, staff = shop.client(shop.buyer), shop.client(shop.seller)
    seen = [open_return_request(shop, buyer, shop.pending_order)]
    form = seen[0].form(lambda f: "message" in f.names(), "to ask for a cancellation")
    seen.append(submit(buyer, form, message="I ordered twice by mistake."))
    [detail_url] = {href for _text, href in open_return_request(shop, buyer, shop.pending_order).links
                    if "/requests/" in href}
    assert "Cancel the order (refund the buyer)" in read(staff.get(detail_url)).text
    step(staff, detail_url, "refuse_order", confirm="1", note="Done, sorry for the trouble.")
    seen.append(read(buyer.get(detail_url)))
    return seen


def test_a_one_seller_shop_speaks_as_itself_on_its_buyers_pages_and_emails(corner: ShopUnderTest, smtp: SMTPServer):
    pages = walk_a_return(corner, ADA, corner.delivered_order, corner.line_product)
    pages += walk_a_cancellation(corner)
    for page in pages:
        assert_in_the_shops_words(page.text, f"the page {page.url}")
        assert not [name for name in STAFF_NAMES if name in page.html], page.url

    refunded, cancelled = pages[-4], pages[-1]
    # The staff's steps and messages are the shop's.
    assert "Corner Tea House (Shop)" in refunded.text and "We will look at it the day it arrives." in refunded.text
    assert "Instructions from Corner Tea House" in refunded.text
    # A cancellation the buyer asked for, done by the shop, reads as one.
    assert "Order cancelled - refund initiated" in cancelled.text
    assert "cancelled the order, as asked" in cancelled.text
    assert "refuse" not in cancelled.text.lower()
    # No sentence about each seller's own terms: there is only one.
    assert "Before your order is processed you can ask for it to be cancelled" in pages[-3].text

    emails = delivered_to(corner, smtp, ADA)
    assert len(emails) >= 6, [e.subject for e in emails]
    for email in emails:
        assert email.subject.startswith("[Corner Tea House] Order CT-10"), email.subject
        assert email.message_id.endswith("@cornertea.example>"), email.message_id
        assert_in_the_shops_words(f"{email.subject}\n{email.text}\n{email.html}", f"the email {email.subject!r}")
    subjects = [email.subject for email in emails]
    assert any(subject.endswith(": Order cancelled - refund initiated") for subject in subjects), subjects
    assert any("Corner Tea House accepted the request" in email.text for email in emails)
    assert any("Corner Tea House cancelled the order, as asked." in email.text for email in emails)


def test_a_french_buyer_reads_the_shops_words_in_french(corner: ShopUnderTest, smtp: SMTPServer):
    pages = walk_a_return(corner, BASTIEN, "CT-1046", "Gyokuro")
    assert "Statut" in pages[-1].text, "the page is in French"
    for page in pages:
        assert_in_the_shops_words(page.text, f"la page {page.url}")
    assert "Instructions – Corner Tea House" in pages[-1].text
    emails = delivered_to(corner, smtp, BASTIEN)
    assert emails and all(e.subject.startswith("[Corner Tea House] Commande CT-1046") for e in emails), \
        [e.subject for e in emails]
    for email in emails:
        assert_in_the_shops_words(f"{email.subject}\n{email.text}\n{email.html}", f"l'e-mail {email.subject!r}")


def test_settings_rename_the_shop_its_sellers_and_its_message_domain(corner: ShopUnderTest, smtp: SMTPServer):
    corner.app.config.update(MIRETTE_RETURNS_SHOP_NAME="The Corner", MIRETTE_RETURNS_SELLER_WORD="maker",
                             MIRETTE_RETURNS_MAIL_DOMAIN="mail.cornertea.example")
    corner.app.extensions["mirette_returns"].config.update(SHOP_NAME="The Corner", SELLER_WORD="maker",
                                                           MAIL_DOMAIN="mail.cornertea.example")
    cancelled = walk_a_cancellation(corner)[-1]
    assert "Maker Corner Tea House" in cancelled.text  # the seller's label, then its name
    [email, *_] = delivered_to(corner, smtp, ADA)
    assert email.subject.startswith("[The Corner] Order CT-1041"), email.subject
    assert email.message_id.endswith("@mail.cornertea.example>"), email.message_id


def test_a_seller_word_without_translations_is_refused_at_mount(app_config: dict, _schema: None):
    from examples.corner_shop import create_app

    with pytest.raises(ConfigurationError, match="MIRETTE_RETURNS_SELLER_WORD is 'potter'"):
        create_app({**app_config, "CORNER_SEED": False, "MIRETTE_RETURNS_SELLER_WORD": "potter"})


def test_the_marketplace_keeps_its_marketplace_words(app, ctx, client_as):
    import sqlalchemy as sa

    from mirette_returns_plugin.mail_message import WrittenEmail
    from mirette_returns_plugin.models import OutboxEmail
    from tests import flows
    from tests.shop import CAMILLE, LUNE, order_ref

    page = read(client_as(CAMILLE).get(f"/returns/orders/{order_ref('MIR-1002')}"))
    assert "The sale is between you and each artist" in page.text
    request = flows.submit_cancellation()
    flows.take(LUNE, request.id, "refuse_order")
    detail = read(client_as(CAMILLE).get(f"/returns/requests/{request.id}"))
    assert "Order refused - refund initiated" in detail.text
    assert "Artist Atelier Lune" in detail.text
    subjects = [WrittenEmail(row).subject for row in app.extensions["sqlalchemy"].session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.recipient == CAMILLE))]
    assert "[Mirette] Order MIR-1002 – your order from Atelier Lune: Order refused - refund initiated" in subjects
