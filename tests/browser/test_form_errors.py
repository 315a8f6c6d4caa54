"""A form the server refuses shows its messages in place, keeps what was
typed, points the fields at their messages and moves the focus to the
first one; nothing is saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, expect

from . import kit
from .kit import ALEX, CAMILLE

pytestmark = [pytest.mark.browser, kit.both_htmx]

PRODUCT = "Speckled mug"


def expect_field_error(field: Locator, message: str) -> None:
    """``field`` is marked invalid and described by a message read out as an alert."""
    expect(field).to_have_attribute("aria-invalid", "true")
    described = (field.get_attribute("aria-describedby") or "").split()
    errors = [ident for ident in described if ident.endswith("-error")]
    assert len(errors) == 1, described
    error = field.page.locator(f"[id='{errors[0]}']")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text(message)


def test_return_form_errors_in_place(shop, open_page, tmp_path: Path) -> None:
    buyer = kit.sign_in(open_page(), CAMILLE)
    kit.goto_return_request(buyer, shop, "MIR-1004")
    form = kit.open_return_form(buyer, PRODUCT)
    not_a_photo = tmp_path / "receipt.png"
    not_a_photo.write_text("this is a shopping list, not a picture")

    # An exchange without the product wanted, and a "photo" that is text: the
    # browser lets both through, the server refuses them.
    kit.fill_return_form(form, quantity=2, kind="exchange", reason="Changed my mind",
                         comment="Two of them, please.", photo=not_a_photo)
    with kit.stays_on_page(buyer):
        form.get_by_role("button", name="Submit a request").click()
        photos = form.locator('input[type="file"]')
        expect_field_error(photos, "receipt.png is not")
    wanted = form.get_by_label("For an exchange: the product you would like instead")
    expect_field_error(wanted, "Choose the product you would like instead.")
    expect(form.locator("[aria-invalid='true']").first).to_be_focused()

    # What was typed is still there.
    expect(form.get_by_label("Quantity", exact=True)).to_have_value("2")
    expect(form.get_by_label("Exchange, for another product")).to_be_checked()
    expect(form.get_by_label("Comment (optional)")).to_have_value("Two of them, please.")
    assert [r for r in kit.requests_of(shop) if r.order_number == "MIR-1004"] == []

    # Corrected, it goes through.
    kit.fill_return_form(form, quantity=2, kind="exchange", reason="Changed my mind",
                         wanted="Speckled mug – Sand")
    form.locator('input[type="file"]').set_input_files([])
    form.get_by_role("button", name="Submit a request").click()
    expect(kit.line(buyer, PRODUCT).get_by_role("status")).to_contain_text("Your request was sent to Atelier Lune")
    (request,) = [r for r in kit.requests_of(shop) if r.order_number == "MIR-1004"]
    assert (request.kind, request.quantity, request.wanted_label) == ("exchange", 2, "Speckled mug – Sand")


def test_empty_message_is_refused_in_place(shop, open_page) -> None:
    # Alex's scarf exchange (MIR-2003) is under way when the demo starts.
    buyer = kit.sign_in(open_page(), ALEX)
    kit.goto_return_request(buyer, shop, "MIR-2003")
    with buyer.expect_navigation():
        kit.line(buyer, "Woven linen scarf").get_by_role("link", name="See details").click()
    (request,) = kit.requests_of(shop, kit.order_ref(shop, "MIR-2003"))
    before = kit.messages_of(shop, request.id)

    reply = buyer.locator("form#mr-reply")
    with kit.stays_on_page(buyer):
        reply.get_by_label("Message").fill("   ")
        reply.get_by_role("button", name="Send").click()
        expect_field_error(reply.get_by_label("Message"), "Write a message or attach a photo.")
    expect(reply.get_by_label("Message")).to_be_focused()
    assert kit.messages_of(shop, request.id) == before


def test_a_second_cancellation_from_a_stale_tab_says_why_at_its_part(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(), CAMILLE)
    first, stale = buyer, buyer.context.new_page()
    for page in (first, stale):
        kit.goto_return_request(page, shop, "MIR-1001")
    lune = kit.artist_ref(shop, kit.LUNE)
    form = first.locator(f"form#mr-cancel-form-{lune}")
    form.get_by_label("Your message to Atelier Lune").fill("Please cancel.")
    form.get_by_role("button", name="Request cancellation").click()
    expect(first.locator("#mr-parts").get_by_role("status")).to_contain_text("Your cancellation request was sent")

    old = stale.locator(f"form#mr-cancel-form-{lune}")
    old.get_by_label("Your message to Atelier Lune").fill("Please cancel, again.")
    with kit.stays_on_page(stale):
        old.get_by_role("button", name="Request cancellation").click()
        alert = stale.locator(f"#mr-cancel-{lune}").get_by_role("alert")
        expect(alert).to_have_text("You have already asked for this part of the order to be cancelled.")
    expect(alert).to_be_in_viewport()
    assert len(kit.requests_of(shop, kit.order_ref(shop, "MIR-1001"))) == 1
