"""The buyer's addresses: a cancellation's contact address, and who sees the account's.

A cancellation asks for an address for the answer. It used to replace the
buyer's address for the rest of the thread and took a display name, so
``"support@shop" <victim@elsewhere>`` sent the artist's replies to a third
party under a misleading name. Now only a plain address is taken, it is
shown as it is, and the account's own address keeps a copy of every email.

The buyer's account address is the support team's to see; an artist sees it
only when the shop says so (``SHOW_BUYER_EMAIL_TO_ARTISTS``).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import OutboxEmail, Request
from mirette_returns_plugin.state import EXTENSION_KEY
from tests.hardening import snapshot
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    parse,
    submit,
    text_of,
)
from tests.shop import CAMILLE, LUNE, SUPPORT, artist_ref, mug_return, order_ref, user

PLAIN_ADDRESS_MESSAGE = "Enter a plain email address such as name@example.com, without a name, quotes or angle brackets"

HOSTILE_ADDRESSES = [
    '"support@shop.example" <victim@elsewhere.example>',
    "Support team <victim@elsewhere.example>",
    "<victim@elsewhere.example>",
    "cam@example.org, victim@elsewhere.example",
    "cam@example.org\r\nBcc: victim@elsewhere.example",
    "not an address",
]


def _cancel_form(app, client):
    with app.app_context():
        order, lune = order_ref("MIR-1001"), artist_ref(LUNE)
    return order, lune, parse(client.get(f"/returns/orders/{order}")).by_id(f"mr-cancel-form-{lune}")


def _outbox(app) -> list[tuple[str, str]]:
    with app.app_context():
        rows = [(row.event_key, row.recipient) for row in
                db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id))]
        db.session.remove()
        return rows


@pytest.mark.parametrize("typed", HOSTILE_ADDRESSES)
def test_a_contact_address_with_a_name_or_brackets_is_refused(app, client_as, typed):
    camille = client_as(CAMILLE)
    _order, lune, form = _cancel_form(app, camille)
    before = snapshot(app)
    response = submit(camille, form, headers=HTMX, message="Please cancel", contact_email=typed)
    assert response.status_code == 422
    error = parse(response).by_id(f"mr-cancel-form-{lune}-contact_email-error")
    assert error is not None and PLAIN_ADDRESS_MESSAGE in error.text, text_of(response)[:400]
    assert snapshot(app) == before


def test_a_plain_contact_address_is_kept_beside_the_account_and_shown_as_it_is(app, client_as):
    camille, lune = client_as(CAMILLE), client_as(LUNE)
    _order, _lune, form = _cancel_form(app, camille)
    response = submit(camille, form, message="Please cancel, wrong colour.", contact_email="  Cam@Example.org ")
    assert response.status_code == 303
    with app.app_context():
        cancel = db.session.scalar(sa.select(Request).where(Request.kind == "cancellation"))
        assert (cancel.contact_email, cancel.buyer_email) == ("Cam@example.org", "camille@buyers.example")
        request_id = cancel.id
        db.session.remove()
    page = parse(lune.get(f"/returns/requests/{request_id}"))
    shown = page.find("dd", class_="mr-contact-address")
    assert shown.text.strip() == "Cam@example.org"
    assert shown.one("a").get("href") == "mailto:Cam@example.org"
    # The artist's answer reaches the address given and, in copy, the account's own.
    assert lune.post(f"/returns/requests/{request_id}/messages", data={"body": "Done, cancelled."},
                     headers=HTMX).status_code == 200
    to_buyer = sorted(address for key, address in _outbox(app) if key.startswith("message-"))
    assert to_buyer == ["Cam@example.org", "camille@buyers.example"]


def test_the_accounts_own_address_is_not_a_contact_address(app, client_as):
    camille = client_as(CAMILLE)
    _order, _lune, form = _cancel_form(app, camille)
    # The form offers the account's address; sent as it is, nothing extra is kept.
    assert submit(camille, form, message="Please cancel").status_code == 303
    with app.app_context():
        cancel = db.session.scalar(sa.select(Request).where(Request.kind == "cancellation"))
        assert (cancel.contact_email, cancel.buyer_email) == (None, "camille@buyers.example")
        db.session.remove()


def _facts(client, request_id: int) -> str:
    return parse(client.get(f"/returns/requests/{request_id}")).find("dl", class_="mr-facts").text


def test_artists_see_the_buyers_address_only_when_the_shop_allows_it(app, client_as):
    request_id = mug_return(app)
    lune, support = client_as(LUNE), client_as(SUPPORT)
    with app.test_request_context():
        [cancel] = workflow.request_cancellation(user(CAMILLE), order_ref("MIR-1001"), [artist_ref(LUNE)],
                                                 message="Please cancel")
        cancel_id = cancel.id
        db.session.remove()
    # Off by default: the artist sees the name only, on the page and in the email.
    assert app.config["MIRETTE_RETURNS_SHOW_BUYER_EMAIL_TO_ARTISTS"] is False
    facts = _facts(lune, request_id)
    assert "Camille Martin" in facts and "camille@buyers.example" not in facts
    assert "camille@buyers.example" not in _facts(lune, cancel_id)
    with app.app_context():
        to_artist = WrittenEmail(db.session.scalar(sa.select(OutboxEmail).where(OutboxEmail.recipient == LUNE,
                                                                               OutboxEmail.request_id == cancel_id)))
        assert "Buyer: Camille Martin" in to_artist.body_text
        assert "camille@buyers.example" not in to_artist.body_text + to_artist.body_html
        db.session.remove()
    # Support always sees it.
    assert "camille@buyers.example" in _facts(support, request_id)
    # A shop that allows it.
    app.extensions[EXTENSION_KEY].config["SHOW_BUYER_EMAIL_TO_ARTISTS"] = True
    facts = parse(lune.get(f"/returns/requests/{request_id}")).find("dl", class_="mr-facts")
    assert "camille@buyers.example" in facts.text
    assert facts.find("a", href="mailto:camille@buyers.example") is not None
    # The buyer is never shown her own address as a contact.
    assert "camille@buyers.example" not in _facts(client_as(CAMILLE), request_id)
