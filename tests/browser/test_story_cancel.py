"""Cancelling an order with items from several artists: one message, one
request per artist, each answered on its own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from mirette_returns_plugin.demo.models import Shipment

from . import kit
from .kit import BOIS, CAMILLE, LUNE

pytestmark = [pytest.mark.browser, kit.both_htmx]

MESSAGE = "I ordered these twice by mistake, sorry! Could you cancel MIR-1002?"


def test_cancel_a_multi_artist_order(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(), CAMILLE)
    lune = kit.sign_in(open_page(), LUNE)
    bois = kit.sign_in(open_page(), BOIS)
    order = kit.order_ref(shop, "MIR-1002")

    # Atelier Lune and Bois & Fil have not processed their parts yet; Verre
    # Soufflé has: one form asks the first two.
    kit.open_return_request(buyer, "MIR-1002")
    every = buyer.locator("form#mr-cancel-all")
    expect(every).to_contain_text("Atelier Lune, Bois & Fil")
    with kit.stays_on_page(buyer):
        every.get_by_label("Your message to the artists").fill(MESSAGE)
        expect(every.get_by_label("Email address for the answer")).to_have_value("camille@buyers.example")
        every.get_by_role("button", name="Ask every artist to cancel").click()
        expect(buyer.locator("#mr-parts > .mr-alert[role=status]")).to_have_text(
            "Your cancellation requests were sent to Atelier Lune, Bois & Fil.")
    for artist_ref in (kit.artist_ref(shop, LUNE), kit.artist_ref(shop, BOIS)):
        part = buyer.locator(f"#mr-part-{artist_ref}")
        expect(part.locator(".mr-cancel-request")).to_contain_text("Cancellation request · Requested")
    expect(buyer.locator("form.mr-cancel-form")).to_have_count(0)

    by_artist = {r.artist_name: r for r in kit.requests_of(shop, order)}
    assert sorted(by_artist) == sorted([BOIS, LUNE])
    assert {r.kind for r in by_artist.values()} == {"cancellation"}
    assert [kit.messages_of(shop, r.id) for r in by_artist.values()] == [[MESSAGE], [MESSAGE]]

    # The buyer follows Atelier Lune's answer on its details page.
    lune_part = buyer.locator(f"#mr-part-{kit.artist_ref(shop, LUNE)}")
    with buyer.expect_navigation():
        lune_part.get_by_role("link", name="See details").click()
    expect(kit.timeline(buyer)).to_contain_text(MESSAGE)

    kit.open_request_from_inbox(lune, by_artist[LUNE].id, kind="Cancellation")
    expect(kit.timeline(lune)).to_contain_text(MESSAGE)
    with kit.stays_on_page(buyer):
        kit.take_step(lune, "refuse_order", "Refuse the order (refund the buyer)",
                      {"Note (optional)": "Cancelled, no worries."}, confirm=True)
        expect(kit.status(buyer)).to_have_text("Order refused - refund initiated")

    # Bois & Fil had already handed the parcel over: they decline, with why.
    kit.open_request_from_inbox(bois, by_artist[BOIS].id, kind="Cancellation")
    kit.take_step(bois, "decline", "Decline: already shipped",
                  {"Reason, shown to the buyer": "It left the workshop this morning."}, confirm=True)
    expect(kit.status(bois)).to_have_text("Declined")

    kit.mark_refund_paid(open_page(), "MIR-1002")
    expect(kit.status(buyer)).to_have_text("Refunded")

    kit.goto_return_request(buyer, shop, "MIR-1002")
    expect(buyer.locator(f"#mr-part-{kit.artist_ref(shop, LUNE)} .mr-cancel-request")).to_contain_text("Refunded")
    bois_part = buyer.locator(f"#mr-part-{kit.artist_ref(shop, BOIS)}")
    expect(bois_part.locator(".mr-cancel-request")).to_contain_text("Declined")
    with buyer.expect_navigation():
        bois_part.get_by_role("link", name="See details").click()
    expect(buyer.locator(".mr-declined")).to_contain_text("It left the workshop this morning.")

    by_artist = {r.artist_name: r for r in kit.requests_of(shop, order)}
    assert (by_artist[LUNE].status, by_artist[BOIS].status) == ("refunded", "declined")
    with shop.database() as session:
        shipments = session.scalars(sa.select(Shipment).where(Shipment.order_id == int(order)))
        states = {shipment.artist.name: shipment.state for shipment in shipments}
    assert states == {LUNE: "cancelled", BOIS: "paid", "Verre Soufflé": "accepted"}
