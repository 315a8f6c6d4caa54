"""Partial refunds: when the item came back used, incomplete or damaged, the
artist (or support) refunds less than the estimate, with a reason the buyer
reads on the page, in the timeline and in an email, and may take to support.

The estimate of Camille's mug (MIR-1004, Atelier Lune) is €25.38. The shop's
refund hook is the demo's own (a row per key in its payments table).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from mirette_returns_plugin.demo.models import Account, PaymentRefund, db
from mirette_returns_plugin.errors import AdapterError, NotAllowed, ValidationError
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import OutboxEmail, Request, RequestKind
from mirette_returns_plugin.workflow import Status
from tests import flows
from tests.i18nkit import spaces
from tests.pagekit import HTMX, client_as, parse, submit, text_of  # noqa: F401  (client_as: English pages)
from tests.shop import CAMILLE, LUNE, SUPPORT

REASON = "The handle came back chipped and the glaze is scratched."


def received_return() -> int:
    request_id = flows.submit_line(RequestKind.RETURN).id
    flows.take(LUNE, request_id, "accept")
    flows.take(LUNE, request_id, "receive")
    return request_id


def decision_columns(request_id: int) -> tuple:
    request = flows.fresh(request_id)
    return request.status, request.refund_decided_amount, request.refund_decision_reason


def emails_about(request_id: int, action: str) -> list[OutboxEmail]:
    """The outbox rows of ``action``'s history rows on the request."""
    from mirette_returns_plugin.models import HistoryEntry

    db.session.rollback()
    ids = db.session.scalars(sa.select(HistoryEntry.id).where(
        HistoryEntry.request_id == request_id, HistoryEntry.action == action)).all()
    rows = db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.request_id == request_id)
                              .order_by(OutboxEmail.id)).all()
    return [WrittenEmail(row) for row in rows if row.event_key.split(":")[0] in {f"history-{i}" for i in ids}]


# --------------------------------------------------------------------------- #
# The amount reaches the shop, and the records keep the three facts
# --------------------------------------------------------------------------- #


def test_a_partial_refund_reaches_the_shop_with_the_exact_amount_and_is_kept(ctx):
    request_id = received_return()
    flows.take(LUNE, request_id, "decide_refund", amount="15,50", note=REASON)
    assert decision_columns(request_id) == (Status.RECEIVED, Decimal("15.50"), REASON)
    decided = flows.history(request_id)[-1]
    assert (decided.action, decided.actor_role, decided.amount, decided.note) == (
        "decide_refund", "artist", Decimal("15.50"), REASON)

    with flows.shop_refunds(flows.RecordingShop()) as shop:
        flows.take(LUNE, request_id, "initiate_refund")
    [order] = shop.calls
    assert (order.amount, order.currency) == (Decimal("15.50"), "EUR")
    db.session.rollback()
    [till] = db.session.scalars(sa.select(PaymentRefund)).all()
    assert (till.idempotency_key, till.amount) == (order.idempotency_key, Decimal("15.50"))
    refund = flows.refund_row(request_id)
    assert (refund.estimated_amount, refund.amount, refund.decision_reason) == (
        Decimal("25.38"), Decimal("15.50"), REASON)
    assert flows.fresh(request_id).status == Status.REFUND_INITIATED


def test_a_full_refund_keeps_the_estimate_beside_the_amount_and_no_reason(ctx):
    request_id = received_return()
    flows.take(LUNE, request_id, "initiate_refund")
    refund = flows.refund_row(request_id)
    assert (refund.estimated_amount, refund.amount, refund.decision_reason) == (
        Decimal("25.38"), Decimal("25.38"), None)


def test_support_decides_one_and_both_parties_are_told(ctx):
    request_id = flows.submit_line(RequestKind.RETURN).id
    flows.take(LUNE, request_id, "accept")
    flows.take(CAMILLE, request_id, "ship_back")
    # The item arrived damaged: support records it and decides, for the artist.
    flows.take(SUPPORT, request_id, "decide_refund", amount="12", note=REASON)
    assert decision_columns(request_id) == (Status.RECEIVED, Decimal("12.00"), REASON)
    last = flows.history(request_id)[-1]
    assert (last.action, last.from_status, last.to_status, last.actor_role, last.amount) == (
        "decide_refund", Status.SHIPPED_BACK, Status.RECEIVED, "support", Decimal("12.00"))
    told = {row.recipient for row in emails_about(request_id, "decide_refund")}
    assert told == {CAMILLE, LUNE}
    with flows.shop_refunds(flows.RecordingShop()) as shop:
        flows.take(SUPPORT, request_id, "initiate_refund")
    assert [o.amount for o in shop.calls] == [Decimal("12.00")]


def test_nothing_back_completes_the_refund_without_asking_the_shop(ctx):
    request_id = received_return()
    flows.take(LUNE, request_id, "decide_refund", amount="0", note="The mug came back in pieces.")
    with flows.shop_refunds(flows.RecordingShop()) as shop:
        flows.take(LUNE, request_id, "initiate_refund")
    assert shop.calls == []
    assert flows.fresh(request_id).status == Status.REFUNDED
    refund = flows.refund_row(request_id)
    assert (refund.amount, refund.estimated_amount, refund.state) == (Decimal("0.00"), Decimal("25.38"), "completed")


def test_the_amount_is_fixed_once_the_refund_has_started(ctx):
    request_id = received_return()
    with flows.shop_refunds(flows.FailingPaymentShop()), pytest.raises(AdapterError):
        flows.take(LUNE, request_id, "initiate_refund")
    before = flows.snapshot(request_id)
    with pytest.raises(NotAllowed) as refused:
        flows.take(LUNE, request_id, "decide_refund", amount="5", note=REASON)
    assert refused.value.message == "The refund has already been started: its amount can no longer change."
    assert flows.snapshot(request_id) == before
    # The retry asks the estimate again, under the same key.
    with flows.shop_refunds(flows.RecordingShop()) as shop:
        flows.take(LUNE, request_id, "initiate_refund")
    assert [o.amount for o in shop.calls] == [Decimal("25.38")]


@pytest.mark.parametrize("typed,message", [
    ("25.39", "You can refund at most €25.38, the estimated refund."),
    ("300", "You can refund at most €25.38, the estimated refund."),
    ("-1", "The amount cannot be below zero."),
    ("-0.01", "The amount cannot be below zero."),
    ("ten euros", "Enter the amount as a number, such as 12.50."),
    ("1e3", "Enter the amount as a number, such as 12.50."),
    ("12.555", "Enter the amount as a number, such as 12.50."),
    ("1,234.50", "Enter the amount as a number, such as 12.50."),
    ("NaN", "Enter the amount as a number, such as 12.50."),
    ("   ", "This field is required."),
])
def test_a_wrong_amount_is_refused_with_a_message_and_nothing_changes(ctx, typed, message):
    request_id = received_return()
    before = flows.snapshot(request_id), decision_columns(request_id)
    with pytest.raises(ValidationError) as refused:
        flows.take(LUNE, request_id, "decide_refund", amount=typed, note=REASON)
    assert refused.value.errors == {"amount": message}
    assert (flows.snapshot(request_id), decision_columns(request_id)) == before


def test_a_reason_is_required(ctx):
    request_id = received_return()
    before = flows.snapshot(request_id)
    with pytest.raises(ValidationError) as refused:
        flows.take(LUNE, request_id, "decide_refund", amount="10", note="  ")
    assert refused.value.errors == {"note": "This field is required."}
    assert flows.snapshot(request_id) == before


def test_the_buyer_cannot_decide_her_own_refund(ctx):
    request_id = received_return()
    with pytest.raises(NotAllowed):
        flows.take(CAMILLE, request_id, "decide_refund", amount="25.38", note="All of it, please.")
    assert decision_columns(request_id) == (Status.RECEIVED, None, None)


# --------------------------------------------------------------------------- #
# Pages: a real form without JavaScript, a fragment with htmx
# --------------------------------------------------------------------------- #


def _decide_form(client, request_id: int):
    page = parse(client.get(f"/returns/requests/{request_id}"))
    return page.find("form", id="mr-action-decide_refund")


def test_the_artist_decides_without_javascript_and_the_buyer_reads_amount_and_reason(app, client_as):
    with app.test_request_context():
        request_id = received_return()
    lune = client_as(LUNE)
    form = _decide_form(lune, request_id)
    amount = form.find("input", name="amount")
    assert amount.attrs["inputmode"] == "decimal"
    assert "From €0.00 to €25.38, the estimated refund." in form.text

    posted = submit(lune, form, amount="15.50", note=REASON)
    assert posted.status_code == 303

    buyer_page = parse(client_as(CAMILLE).get(f"/returns/requests/{request_id}"))
    decision = buyer_page.find(id="mr-refund-decision")
    assert "Refund decided: €15.50 instead of the estimated €25.38." in decision.text
    assert REASON in decision.text
    assert "If you disagree, you can ask the support team to step in below." in decision.text
    assert buyer_page.find("form", id="mr-action-escalate") is not None
    timeline = buyer_page.find(id="mr-timeline").text
    assert "decided to refund €15.50 instead of the estimated €25.38" in timeline
    assert REASON in timeline

    # Once initiated, the page still says how much and why.
    with app.test_request_context():
        flows.take(LUNE, request_id, "initiate_refund")
    refund_box = parse(client_as(CAMILLE).get(f"/returns/requests/{request_id}")).find(id="mr-refund").text
    assert "Refund of €15.50 initiated." in refund_box and REASON in refund_box


def test_a_wrong_amount_without_javascript_shows_the_page_again_with_the_message(app, client_as):
    with app.test_request_context():
        request_id = received_return()
    lune = client_as(LUNE)
    posted = submit(lune, _decide_form(lune, request_id), amount="40", note=REASON)
    assert posted.status_code == 422
    form = parse(posted).find("form", id="mr-action-decide_refund")
    assert "You can refund at most €25.38, the estimated refund." in form.text
    assert form.find("input", name="amount").attrs["value"] == "40"
    with app.test_request_context():
        assert decision_columns(request_id) == (Status.RECEIVED, None, None)


def test_with_htmx_the_actions_come_back_in_place(app, client_as):
    with app.test_request_context():
        request_id = received_return()
    lune = client_as(LUNE)
    refused = submit(lune, _decide_form(lune, request_id), headers=HTMX, amount="-3", note=REASON)
    assert refused.status_code == 422
    assert "The amount cannot be below zero." in text_of(refused)
    done = submit(lune, _decide_form(lune, request_id), headers=HTMX, amount="9.99", note=REASON)
    assert done.status_code == 200
    page = parse(done)
    assert "Refund decided: €9.99 instead of the estimated €25.38." in page.find(id="mr-summary").text
    with app.test_request_context():
        assert decision_columns(request_id) == (Status.RECEIVED, Decimal("9.99"), REASON)


# --------------------------------------------------------------------------- #
# The buyer's email, in English and in French
# --------------------------------------------------------------------------- #


def test_the_buyer_is_emailed_the_amount_and_the_reason(ctx):
    request_id = received_return()
    flows.take(LUNE, request_id, "decide_refund", amount="15.50", note=REASON)
    [email] = [row for row in emails_about(request_id, "decide_refund") if row.recipient == CAMILLE]
    assert email.subject.endswith("Partial refund decided")
    body = spaces(email.body_text)
    assert ("Atelier Lune received the item back and will refund €15.50 instead of the estimated €25.38, "
            "for the reason below. If you disagree, you can ask the support team to step in from the "
            "request's page.") in body
    assert f"Why less is refunded: {REASON}" in body
    assert "€15.50" in spaces(email.body_html) and REASON in email.body_html


def test_the_buyer_reading_french_is_emailed_in_french(ctx):
    db.session.execute(sa.update(Account).where(Account.email == CAMILLE).values(locale="fr"))
    db.session.commit()
    request_id = flows.submit_line(RequestKind.RETURN).id
    db.session.execute(sa.update(Request).where(Request.id == request_id).values(buyer_locale="fr"))
    db.session.commit()
    flows.take(LUNE, request_id, "accept")
    flows.take(LUNE, request_id, "receive")
    flows.take(LUNE, request_id, "decide_refund", amount="15,50", note="L'anse est ébréchée.")
    [email] = [row for row in emails_about(request_id, "decide_refund") if row.recipient == CAMILLE]
    body = spaces(email.body_text)
    assert email.subject.endswith("Remboursement partiel décidé")
    assert ("Atelier Lune a reçu l'article en retour et remboursera 15,50 € au lieu des 25,38 € estimés, "
            "pour la raison ci-dessous. Si vous n'êtes pas d'accord, vous pouvez demander à l'équipe "
            "d'assistance d'intervenir depuis la page de la demande.") in body
    assert "L'anse est ébréchée." in body


@pytest.mark.seeded_languages
def test_the_buyer_reads_the_decision_in_french(app):
    from tests.shop import login

    with app.test_request_context():
        request_id = received_return()
        flows.take(LUNE, request_id, "decide_refund", amount="15,50", note="L'anse est ébréchée.")
    client = login(app.test_client(), CAMILLE)
    with client.session_transaction() as session:
        session["locale"] = "fr"
    page = parse(client.get(f"/returns/requests/{request_id}"))
    decision = spaces(page.find(id="mr-refund-decision").text)
    assert "Remboursement décidé : 15,50 € au lieu des 25,38 € estimés." in decision
    assert "Pourquoi le remboursement est moindre L'anse est ébréchée." in decision
    assert ("Si vous n'êtes pas d'accord, vous pouvez demander à l'équipe d'assistance d'intervenir ci-dessous."
            in decision)
    assert "a décidé de rembourser 15,50 € au lieu des 25,38 € estimés" in spaces(page.find(id="mr-timeline").text)
