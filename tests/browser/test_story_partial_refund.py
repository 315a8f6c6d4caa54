"""A bowl that came back chipped: Atelier Lune refunds less than the estimate
and says why; Camille reads the amount and the reason while her page is open,
and can ask the support team to step in. With htmx 2 and 4, and without
JavaScript."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from . import kit
from .kit import CAMILLE, LUNE

PRODUCT = "Serving bowl"
REASON = "The bowl came back with a chip on its foot ring: I can only sell it as a second."
BUTTON = "Refund less: the item came back used, incomplete or damaged"
NO_JS = {"java_script_enabled": False}


def return_accepted(buyer: Page, artist: Page, shop) -> int:
    """Camille returns the bowl of MIR-1004; Atelier Lune accepts."""
    kit.open_return_request(buyer, "MIR-1004")
    form = kit.open_return_form(buyer, PRODUCT)
    kit.fill_return_form(form, reason="Changed my mind", comment="It does not suit our table.")
    form.get_by_role("button", name="Submit a request").click()
    expect(kit.line(buyer, PRODUCT).get_by_role("status")).to_be_visible()
    request_id = max(r.id for r in kit.requests_of(shop))
    artist.goto(f"/returns/requests/{request_id}")
    kit.take_step(artist, "accept", "Accept and give return instructions",
                  {"Return instructions for the buyer": "Wrap it well and send it to the studio."})
    return request_id


def decide(artist: Page, amount: str, *, javascript: bool = True) -> None:
    form = kit.action_form(artist, "decide_refund")
    form.get_by_label("Amount to refund").fill(amount)
    form.get_by_label("Why less is refunded, shown to the buyer").fill(REASON)
    kit.submit(artist, form.get_by_role("button", name=BUTTON), javascript=javascript)


@pytest.mark.browser
@kit.both_htmx
def test_partial_refund_in_place(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(), CAMILLE)
    artist = kit.sign_in(open_page(), LUNE)
    request_id = return_accepted(buyer, artist, shop)
    buyer.goto(f"/returns/requests/{request_id}")

    with kit.stays_on_page(buyer), kit.stays_on_page(artist):
        # Above the estimate: the message next to the field, in place.
        decide(artist, "500")
        form = kit.action_form(artist, "decide_refund")
        expect(form.get_by_label("Amount to refund")).to_have_attribute("aria-invalid", "true")
        expect(form).to_contain_text("You can refund at most €59.38, the estimated refund.")

        decide(artist, "40,00")
        expect(artist.locator("#mr-refund-decision")).to_contain_text(
            "Refund decided: €40.00 instead of the estimated €59.38.")
        expect(kit.status(artist)).to_have_text("Product received - reimbursement can be initiated")
        # The buyer's open page shows it by itself, with the way to support.
        decision = buyer.locator("#mr-refund-decision")
        expect(decision).to_contain_text("Refund decided: €40.00 instead of the estimated €59.38.")
        expect(decision).to_contain_text(REASON)
        expect(decision).to_contain_text("If you disagree, you can ask the support team to step in below.")
        expect(kit.timeline(buyer)).to_contain_text("decided to refund €40.00 instead of the estimated €59.38")
        expect(kit.action_form(buyer, "escalate")).to_be_visible()

        kit.take_step(artist, "initiate_refund", "Initiate the refund")
        expect(buyer.locator("#mr-refund")).to_contain_text("Refund of €40.00 initiated.")
    refund = kit.refund_of(shop, request_id)
    assert (refund.amount, refund.estimated_amount, refund.decision_reason) == (
        Decimal("40.00"), Decimal("59.38"), REASON)


@pytest.mark.browser
def test_partial_refund_without_javascript(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(), CAMILLE)
    artist = kit.sign_in(open_page(**NO_JS), LUNE)
    request_id = return_accepted(buyer, artist, shop)

    decide(artist, "-5", javascript=False)
    expect(kit.action_form(artist, "decide_refund")).to_contain_text("The amount cannot be below zero.")
    assert kit.refund_of(shop, request_id) is None

    decide(artist, "12.50", javascript=False)
    expect(artist.locator("#mr-refund-decision")).to_contain_text(
        "Refund decided: €12.50 instead of the estimated €59.38.")
    buyer.goto(f"/returns/requests/{request_id}")
    expect(buyer.locator("#mr-refund-decision")).to_contain_text(REASON)
