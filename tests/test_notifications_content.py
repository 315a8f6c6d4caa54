"""What the emails say: subject, plain text, HTML, link and threading ids."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from jinja2 import ChoiceLoader, FileSystemLoader

from mirette_returns_plugin import refunds, workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import OutboxEmail, Refund, Request
from mirette_returns_plugin.state import current_state
from mirette_returns_plugin.workflow import ReturnForm
from tests.shop import ALEX, BOIS, CAMILLE, LUNE, VERRE, line_ref, order_ref, user

ITEM = "Speckled mug"


def submit(*, kind="return", comment="", quantity=1, reason="changed_mind") -> Request:
    order, line = order_ref("MIR-1004"), line_ref("MIR-1004", ITEM)
    wanted = current_state().adapter.exchange_options(order, line)[0].ref if kind == "exchange" else None
    return workflow.submit_return(user(CAMILLE), order, ReturnForm(
        line_ref=line, quantity=quantity, kind=kind, reason_code=reason, comment=comment, wanted_ref=wanted))


def last_email(to: str) -> WrittenEmail:
    """The newest email queued for ``to``, as the worker writes it."""
    return WrittenEmail(db.session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.recipient == to).order_by(OutboxEmail.id.desc())
    ).first())


def details(request: Request, base: str = "http://shop.test") -> str:
    return f"{base}/returns/requests/{request.id}"


@pytest.mark.usefixtures("ctx")
class TestStatusChanges:
    def test_product_received(self):
        request = submit()
        workflow.perform(user(LUNE), request.id, "accept", note="Send it back.")
        workflow.perform(user(LUNE), request.id, "receive")

        email = last_email(CAMILLE)
        assert email.subject == (
            "[Mirette] Order MIR-1004 – Speckled mug: Product received - reimbursement can be initiated"
        )
        assert "Hello Camille Martin," in email.body_text
        assert "Atelier Lune received the item back in good condition." in email.body_text
        assert "Order: MIR-1004" in email.body_text
        assert "Item: 1 × Speckled mug (Night blue)" in email.body_text
        assert "Status: Product received - reimbursement can be initiated" in email.body_text
        assert f"See details: {details(request)}" in email.body_text
        assert "<" not in email.body_text
        assert f'href="{details(request)}"' in email.body_html
        assert ">See details</a>" in email.body_html
        assert "Product received - reimbursement can be initiated" in email.body_html

    def test_acceptance_quotes_the_instructions(self):
        request = submit()
        instructions = "Wrap it in paper and post it to Atelier Lune, 4 rue des Potiers, 69001 Lyon."
        workflow.perform(user(LUNE), request.id, "accept", note=instructions)

        email = last_email(CAMILLE)
        assert email.subject.endswith(": Accepted - return instructions given")
        assert "Return instructions:" in email.body_text
        assert instructions in email.body_text
        assert instructions in email.body_html

    def test_decline_gives_the_reason(self):
        request = submit()
        workflow.perform(user(LUNE), request.id, "decline", note="This mug was made to order & can't be returned.")

        email = last_email(CAMILLE)
        assert email.subject.endswith(": Declined")
        assert "Atelier Lune declined the request." in email.body_text
        assert "This mug was made to order & can't be returned." in email.body_text
        assert "made to order &amp; can&#39;t be returned." in email.body_html

    def test_refund_initiated_then_confirmed_show_the_amount(self):
        request = submit()
        workflow.perform(user(LUNE), request.id, "accept", note="Send it back.")
        workflow.perform(user(LUNE), request.id, "receive")
        workflow.perform(user(LUNE), request.id, "initiate_refund")
        initiated = last_email(CAMILLE)
        key = db.session.scalar(sa.select(Refund.idempotency_key))
        refunds.confirm_refund(key, "PSP-77")
        confirmed = last_email(CAMILLE)

        # Camille reads English here (tests/conftest.py); the French emails
        # are in tests/test_i18n_pages.py.
        total = f"{db.session.get(Request, request.id).refund_total:.2f}"
        assert initiated.subject.endswith(": Refund initiated")
        assert f"A refund of €{total} has been initiated." in initiated.body_text
        assert confirmed.subject.endswith(": Refunded")
        assert f"The refund of €{total} is confirmed." in confirmed.body_text
        assert f"Refund: €{total}" in confirmed.body_text

    def test_tracking_number_of_the_return_reaches_the_artist(self):
        request = submit()
        workflow.perform(user(LUNE), request.id, "accept", note="Send it back.")
        workflow.perform(user(CAMILLE), request.id, "ship_back", tracking="6A12345678901")

        email = last_email(LUNE)
        assert email.subject.endswith(": Sent back")
        assert "Camille Martin has sent the item back." in email.body_text
        assert "Tracking number: 6A12345678901" in email.body_text


@pytest.mark.usefixtures("ctx")
class TestRequestsAndMessages:
    def test_new_return_request_to_the_artist(self):
        request = submit(quantity=2, comment="The handle came off when I unpacked it.")

        email = last_email(LUNE)
        assert email.subject == "[Mirette] Order MIR-1004 – Speckled mug: New return request"
        assert "Hello Atelier Lune," in email.body_text
        assert "Camille Martin would like to return 2 × Speckled mug from order MIR-1004." in email.body_text
        assert "Reason: Changed my mind" in email.body_text
        assert "The handle came off when I unpacked it." in email.body_text
        assert f"See details: {details(request)}" in email.body_text

    def test_new_exchange_request_names_the_item_wanted(self):
        submit(kind="exchange")

        email = last_email(LUNE)
        assert email.subject.endswith(": New exchange request")
        assert re.search(r"Wanted instead: Speckled mug – \w", email.body_text)

    def test_cancellation_names_the_artist_and_the_buyers_address(self):
        [request] = workflow.request_cancellation(
            user(ALEX), order_ref("MIR-2001"), None, message="Je préfère annuler, désolé.",
            contact_email="alex.m@example.org")
        workflow.perform(user(VERRE), request.id, "refuse_order", note="Annulée, à bientôt.")

        to_artist = last_email(VERRE)
        assert to_artist.subject == "[Mirette] Order MIR-2001 – items from Verre Soufflé: New cancellation request"
        assert "Je préfère annuler, désolé." in to_artist.body_text
        assert "Buyer: Alex Morgan <alex.m@example.org>" in to_artist.body_text
        to_buyer = WrittenEmail(db.session.scalars(sa.select(OutboxEmail).where(
            OutboxEmail.recipient == "alex.m@example.org").order_by(OutboxEmail.id)).first())
        assert to_buyer.subject == (
            "[Mirette] Order MIR-2001 – your order from Verre Soufflé: Order refused - refund initiated"
        )
        assert "Annulée, à bientôt." in to_buyer.body_text

    def test_a_message_is_quoted_as_an_excerpt(self):
        request = submit()
        opening = "Bonjour ! La tasse est arrivée fêlée <b>au fond</b>. "
        body = opening + "Voici le détail. " * 80 + "LA FIN DU MESSAGE"
        workflow.post_message(user(CAMILLE), request.id, body)

        email = last_email(LUNE)
        assert email.subject == "[Mirette] Order MIR-1004 – Speckled mug: New message from Camille Martin"
        assert "Camille Martin wrote:" in email.body_text
        assert opening.strip() in email.body_text
        assert "LA FIN DU MESSAGE" not in email.body_text
        quoted = email.body_text.split("wrote:\n\n", 1)[1].split("\n\nOrder:", 1)[0].strip()
        assert quoted.startswith(opening.strip())
        assert quoted.endswith("…") and 250 < len(quoted) <= 301
        assert "&lt;b&gt;au fond&lt;/b&gt;" in email.body_html

    def test_a_message_from_the_artist_to_the_buyer(self):
        request = submit()
        workflow.post_message(user(LUNE), request.id, "Merci, je regarde ça.")

        assert last_email(CAMILLE).subject == (
            "[Mirette] Order MIR-1004 – Speckled mug: New message about your return request"
        )


@pytest.mark.usefixtures("ctx")
def test_threading_ids():
    request = submit()
    workflow.perform(user(LUNE), request.id, "accept", note="Send it back.")
    other = workflow.submit_return(user(ALEX), order_ref("MIR-2002"), ReturnForm(
        line_ref=line_ref("MIR-2002", "Oak chopping board"), quantity=1, kind="return", reason_code="changed_mind"))

    rows = list(db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)))
    assert [row.recipient for row in rows] == [LUNE, CAMILLE, BOIS]
    assert re.fullmatch(r"<mirette-returns\.history-\d+\.artist\.[0-9a-f]{12}@mirette\.example>", rows[0].message_id)
    assert len({row.message_id for row in rows}) == 3
    assert rows[0].thread_id == rows[1].thread_id == f"<mirette-returns-request-{request.id}@mirette.example>"
    assert rows[2].thread_id == f"<mirette-returns-request-{other.id}@mirette.example>"


def test_links_outside_a_web_request_use_the_server_name(app):
    with app.test_request_context():
        request = submit()
        workflow.perform(user(LUNE), request.id, "accept", note="Send it back.")
        workflow.perform(user(LUNE), request.id, "receive")
        workflow.perform(user(LUNE), request.id, "initiate_refund")
        key = db.session.scalar(sa.select(Refund.idempotency_key))
        link = details(request)
    with app.app_context():  # the shop's payment job, say
        refunds.confirm_refund(key, "PSP-1")
        assert f"See details: {link}" in last_email(CAMILLE).body_text


@pytest.mark.usefixtures("ctx")
class TestShopSettings:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MIRETTE_RETURNS_EXTERNAL_BASE_URL": "https://boutique.example/shop/",
                "MIRETTE_RETURNS_MAIL_SUBJECT_PREFIX": "[Boutique]",
                "MIRETTE_RETURNS_MAIL_SENDER": "Boutique <retours@boutique.example>"}

    def test_links_subject_prefix_and_ids_follow_the_settings(self):
        request = submit()

        email = last_email(LUNE)
        assert email.subject == "[Boutique] Order MIR-1004 – Speckled mug: New return request"
        assert f"See details: {details(request, 'https://boutique.example/shop')}" in email.body_text
        assert email.message_id.endswith("@boutique.example>")
        assert email.thread_id == f"<mirette-returns-request-{request.id}@boutique.example>"


@pytest.mark.usefixtures("ctx")
def test_a_shop_overrides_an_email_template(app, tmp_path):
    folder = tmp_path / "mirette_returns" / "email"
    folder.mkdir(parents=True)
    (folder / "new_request.txt").write_text(
        "{{ _('Hello %(name)s,', name=email.recipient.name) }} Atelier news: {{ email.order_number }} "
        "{{ email.details_url }}\n", encoding="utf-8")
    app.jinja_env.loader = ChoiceLoader([FileSystemLoader(str(tmp_path)), app.jinja_env.loader])

    request = submit()

    email = last_email(LUNE)
    assert email.body_text == f"Hello Atelier Lune, Atelier news: MIR-1004 {details(request)}\n"
    assert "<!DOCTYPE html>" in email.body_html  # the HTML template was not overridden
