"""In place, really: htmx answers replace a part of the page, never the page;
the focus lands somewhere sensible, the scroll position stays, and a double
click sends one request."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from . import kit
from .kit import ALEX, BOIS, CAMILLE

pytestmark = [pytest.mark.browser, kit.both_htmx]

#: Short enough that the vase, the last line of MIR-1004, is below the fold.
SHORT = {"width": 1280, "height": 640}
VASE = "Blown glass vase"


def scroll_y(page: Page) -> float:
    return page.evaluate("window.scrollY")


def focused_id(page: Page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id || document.activeElement.tagName : ''")


def test_request_return_in_place(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(viewport=SHORT), CAMILLE)
    kit.goto_return_request(buyer, shop, "MIR-1004")
    vase = kit.line(buyer, VASE)
    request_link = vase.get_by_role("link", name="Request return")
    request_link.scroll_into_view_if_needed()
    assert scroll_y(buyer) > 0

    with kit.stays_on_page(buyer):
        request_link.focus()
        buyer.keyboard.press("Enter")
        form = kit.return_form(buyer, VASE)
        expect(form).to_be_visible()
        # The page did not jump to the top, and the form is where the link was.
        assert scroll_y(buyer) > 0
        expect(form.get_by_role("heading", name=f"Request return: {VASE}")).to_be_visible()
        # The focus stays on the link; the next Tab goes into the form.
        expect(request_link).to_be_focused()
        buyer.keyboard.press("Tab")
        assert form.evaluate("(form) => form.contains(document.activeElement)")

        kit.fill_return_form(form, quantity=1, reason="Wrong size or fit")
        form.get_by_role("button", name="Submit a request").click()
        notice = vase.get_by_role("status")
        expect(notice).to_have_text("Your request was sent to Verre Soufflé. They will answer you here.")
        # The focus moves to the notice, which is on screen; the page did not scroll to the top.
        expect(notice).to_be_focused()
        expect(notice).to_be_in_viewport()
        assert scroll_y(buyer) > 0
    expect(form).to_have_count(0)
    assert [r.product_name for r in kit.requests_of(shop, kit.order_ref(shop, "MIR-1004"))] == [VASE]


def test_double_click_sends_one_request(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(), CAMILLE)
    kit.goto_return_request(buyer, shop, "MIR-1004")
    form = kit.open_return_form(buyer, "Speckled mug")
    kit.fill_return_form(form, quantity=1, reason="Changed my mind")
    with kit.stays_on_page(buyer):
        form.get_by_role("button", name="Submit a request").dblclick()
        expect(kit.line(buyer, "Speckled mug").get_by_role("status")).to_contain_text("Your request was sent")
    expect(kit.line(buyer, "Speckled mug").locator(".mr-line-requests li")).to_have_count(1)
    requests = kit.requests_of(shop, kit.order_ref(shop, "MIR-1004"))
    assert [(r.product_name, r.quantity) for r in requests] == [("Speckled mug", 1)]


def test_thread_and_steps_in_place(shop, open_page) -> None:
    """Alex's scarf exchange (MIR-2003, sent back) with Bois & Fil, both pages open."""
    buyer = kit.sign_in(open_page(), ALEX)
    artist = kit.sign_in(open_page(), BOIS)
    (request,) = kit.requests_of(shop, kit.order_ref(shop, "MIR-2003"))
    buyer.goto(f"/returns/requests/{request.id}")
    kit.open_request_from_inbox(artist, request.id, kind="Exchange")
    buyer.locator("form#mr-reply").scroll_into_view_if_needed()
    assert scroll_y(buyer) > 0
    announcer = buyer.locator("[data-mr-announcer]")
    expect(announcer).to_have_count(1)

    with kit.stays_on_page(buyer), kit.stays_on_page(artist):
        # The buyer sends a message: it joins the thread, the box is empty and
        # keeps the focus for the next one; the page does not jump.
        kit.write_message(buyer, "The parcel should arrive on Thursday.")
        expect(kit.timeline(buyer).locator("li").first).to_contain_text("The parcel should arrive on Thursday.")
        reply_box = buyer.locator("form#mr-reply").get_by_label("Message")
        expect(reply_box).to_have_value("")
        expect(reply_box).to_be_focused()
        assert scroll_y(buyer) > 0
        expect(kit.timeline(artist)).to_contain_text("The parcel should arrive on Thursday.")

        # While the buyer types, the artist's answer arrives: the buyer keeps
        # the focus and the words typed; the news is read out.
        reply_box.fill("Also, could")
        kit.write_message(artist, "Thanks, I will watch for it.")
        expect(kit.timeline(buyer)).to_contain_text("Thanks, I will watch for it.")
        expect(announcer).to_contain_text("Thanks, I will watch for it.")
        expect(reply_box).to_be_focused()
        expect(reply_box).to_have_value("Also, could")

        # The artist's step: the artist reads what it did where the focus
        # went; the buyer hears the new status.
        kit.take_step(artist, "receive", "Product received in good condition")
        done = artist.locator("#mr-actions").get_by_role("status")
        # An exchange: what comes next is the replacement, not a reimbursement.
        expect(done).to_have_text("Done. The request is now “Product received - the replacement can be shipped”.")
        expect(done).to_be_focused()
        expect(kit.status(buyer)).to_have_text("Product received - the replacement can be shipped")
        expect(announcer).to_contain_text("Status: Product received - the replacement can be shipped")
        expect(reply_box).to_have_value("Also, could")

        # News after the step: the artist keeps the focus and hears it.
        kit.write_message(buyer, "Wonderful, thank you!")
        expect(artist.locator("[data-mr-announcer]")).to_contain_text("Wonderful, thank you!")
        expect(done).to_be_focused()
    assert kit.messages_of(shop, request.id)[-3:] == [
        "The parcel should arrive on Thursday.", "Thanks, I will watch for it.", "Wonderful, thank you!"]
