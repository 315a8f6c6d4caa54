"""An exchange: the buyer sends a mug back and gets another glaze, each side
watching the other's steps arrive on their open page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from . import kit
from .kit import CAMILLE, LUNE

pytestmark = [pytest.mark.browser, kit.both_htmx]

PRODUCT = "Speckled mug"


def test_exchange_until_the_replacement_ships(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(), CAMILLE)
    artist = kit.sign_in(open_page(), LUNE)
    order = kit.order_ref(shop, "MIR-1004")

    kit.open_return_request(buyer, "MIR-1004")
    form = kit.open_return_form(buyer, PRODUCT)
    kit.fill_return_form(form, quantity=1, kind="exchange", reason="Changed my mind",
                         comment="The night blue is darker than I thought.", wanted="Speckled mug – Moss")
    form.get_by_role("button", name="Submit a request").click()
    mug = kit.line(buyer, PRODUCT)
    expect(mug.locator(".mr-line-requests")).to_contain_text("Exchange · 1 item · Requested")
    expect(mug.locator(".mr-returnable")).to_have_text("3 returnable now")
    (request,) = kit.requests_of(shop, order)
    assert (request.kind, request.wanted_label) == ("exchange", "Speckled mug – Moss")

    with buyer.expect_navigation():
        mug.get_by_role("link", name="See details").click()
    expect(buyer.locator(".mr-facts")).to_contain_text("Speckled mug – Moss")

    kit.open_request_from_inbox(artist, request.id, kind="Exchange")
    expect(artist.locator(".mr-facts")).to_contain_text("Speckled mug – Moss")
    kit.take_step(artist, "accept", "Accept and give return instructions",
                  {"Return instructions for the buyer": "Send it back in its box; I post the moss one on arrival."})
    expect(kit.status(buyer)).to_have_text("Accepted - return instructions given")

    # The buyer says it is on its way; the artist's open page shows it.
    with kit.stays_on_page(artist):
        kit.take_step(buyer, "ship_back", "I have sent the item back",
                      {"Tracking number (optional)": "LP 1234 5678 FR"})
        expect(kit.status(buyer)).to_have_text("Sent back")
        expect(kit.status(artist)).to_have_text("Sent back")
        expect(artist.locator(".mr-tracking")).to_have_text("Tracking number of the return: LP 1234 5678 FR")

    with kit.stays_on_page(buyer):
        kit.take_step(artist, "receive", "Product received in good condition")
        expect(kit.status(buyer)).to_have_text("Product received - the replacement can be shipped")
        kit.take_step(artist, "ship_replacement", "Replacement shipped",
                      {"Tracking number (optional)": "LP 8765 4321 FR"})
        expect(kit.status(buyer)).to_have_text("Replacement shipped")
        expect(buyer.locator(".mr-tracking").last).to_have_text(
            "Tracking number of the replacement: LP 8765 4321 FR")
        expect(kit.timeline(buyer)).to_contain_text("shipped the replacement")

    # The buyer holds a replacement: the mug may be returned again.
    kit.goto_return_request(buyer, shop, "MIR-1004")
    expect(kit.line(buyer, PRODUCT).locator(".mr-returnable")).to_have_text("4 returnable now")
    (request,) = kit.requests_of(shop, order)
    assert (request.status, request.return_tracking, request.replacement_tracking) == (
        "replacement_shipped", "LP 1234 5678 FR", "LP 8765 4321 FR")
    assert kit.refund_of(shop, request.id) is None
