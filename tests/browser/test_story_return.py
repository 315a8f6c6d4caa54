"""A return, from the buyer's click to the refund, with buyer and artist in
two browsers at the same time."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from mirette_returns_plugin.models import Photo

from . import kit
from .kit import CAMILLE, LUNE

pytestmark = [pytest.mark.browser, kit.both_htmx]

PRODUCT = "Speckled mug"
REPLY = "So sorry about the chip! Keep the mug in its box; a prepaid label is on its way by email."
INSTRUCTIONS = "Drop the parcel at any post office with the label I emailed you."


def buyer_requests_a_return(buyer: Page, tmp_path: Path) -> None:
    """Camille asks Atelier Lune to take back one chipped mug of MIR-1004, with a photo."""
    kit.open_return_request(buyer, "MIR-1004")
    form = kit.open_return_form(buyer, PRODUCT)
    kit.fill_return_form(form, quantity=1, reason="Damaged product",
                         comment="One mug arrived with a chipped rim.", photo=kit.photo_file(tmp_path))
    form.get_by_role("button", name="Submit a request").click()


def test_return_from_request_to_refund(shop, open_page, tmp_path: Path) -> None:
    buyer = kit.sign_in(open_page(), CAMILLE)
    artist = kit.sign_in(open_page(), LUNE)

    # The buyer asks, in place: the line says it was sent and links to the details.
    buyer_requests_a_return(buyer, tmp_path)
    mug = kit.line(buyer, PRODUCT)
    expect(mug.get_by_role("status")).to_have_text(
        "Your request was sent to Atelier Lune. They will answer you here.")
    expect(mug.locator(".mr-line-requests")).to_contain_text("Return · 1 item · Requested")
    (request,) = kit.requests_of(shop, kit.order_ref(shop, "MIR-1004"))
    assert (request.kind, request.status, request.quantity, request.reason_code) == (
        "return", "requested", 1, "damaged")
    assert kit.count_rows(shop, Photo, request.id) == 1
    with buyer.expect_navigation():
        mug.get_by_role("link", name="See details").click()
    expect(kit.status(buyer)).to_have_text("Requested")

    # The artist finds it in the inbox, sees the photo, answers and accepts.
    kit.open_request_from_inbox(artist, request.id)
    photo = artist.get_by_role("img", name="Photo 1, sent by the buyer").first
    expect(photo).to_be_visible()
    assert artist.evaluate("img => img.complete && img.naturalWidth > 0", photo.element_handle())
    expect(kit.timeline(artist)).to_contain_text("One mug arrived with a chipped rim.")

    with kit.stays_on_page(buyer):
        kit.write_message(artist, REPLY)
        expect(kit.timeline(artist)).to_contain_text(REPLY)
        # The buyer's page shows the reply by itself, without reloading.
        expect(kit.timeline(buyer)).to_contain_text(REPLY)

        kit.take_step(artist, "accept", "Accept and give return instructions",
                      {"Return instructions for the buyer": INSTRUCTIONS})
        expect(kit.status(artist)).to_have_text("Accepted - return instructions given")
        expect(kit.status(buyer)).to_have_text("Accepted - return instructions given")
        expect(buyer.locator(".mr-instructions")).to_contain_text(INSTRUCTIONS)

        # The artist confirms the (damaged) mug came back; the buyer sees the new status.
        kit.take_step(artist, "receive", "Product received")
        expect(kit.status(buyer)).to_have_text("Product received - reimbursement can be initiated")
        kit.take_step(artist, "initiate_refund", "Initiate the refund")
        expect(kit.status(buyer)).to_have_text("Refund initiated")

    # The shop's payment provider pays; the buyer's page says so.
    kit.mark_refund_paid(open_page(), "MIR-1004")
    expect(kit.status(buyer)).to_have_text("Refunded")
    expect(buyer.locator("#mr-refund .mr-refund-completed")).to_contain_text("Refunded:")

    (request,) = kit.requests_of(shop, kit.order_ref(shop, "MIR-1004"))
    assert request.status == "refunded"
    assert request.instructions == INSTRUCTIONS
    assert kit.messages_of(shop, request.id) == [REPLY]
    refund = kit.refund_of(shop, request.id)
    assert refund is not None and refund.state == "completed" and refund.amount == request.refund_total
