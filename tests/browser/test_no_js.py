"""The core stories with JavaScript off: every form is a plain post, every
answer a page (post, redirect, get)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from mirette_returns_plugin.models import Photo

from . import kit
from .kit import BOIS, CAMILLE, LUNE

pytestmark = pytest.mark.browser

NO_JS = {"java_script_enabled": False}


def no_htmx(page: Page) -> None:
    """Scripts really are off: the plugin's script, which adds a live region
    to every page of the plugin, never ran here."""
    assert page.locator(".mr").count() == 1
    assert page.locator("[data-mr-announcer]").count() == 0


def open_request(page: Page, request_id: int, kind: str) -> None:
    kit.open_request_from_inbox(page, request_id, kind=kind)
    no_htmx(page)


def test_return_without_javascript(shop, open_page, tmp_path: Path) -> None:
    buyer = kit.sign_in(open_page(**NO_JS), CAMILLE)
    artist = kit.sign_in(open_page(**NO_JS), LUNE)

    kit.open_return_request(buyer, "MIR-1004")
    with buyer.expect_navigation():
        kit.line(buyer, "Speckled mug").get_by_role("link", name="Request return").click()
    form = kit.return_form(buyer, "Speckled mug")
    kit.fill_return_form(form, quantity=1, reason="Damaged product",
                         comment="One mug arrived with a chipped rim.", photo=kit.photo_file(tmp_path))
    kit.submit(buyer, form.get_by_role("button", name="Submit a request"), javascript=False)
    # Post, redirect, get: the details page of the new request, with a notice.
    expect(buyer.get_by_role("status").first).to_have_text(
        "Your request was sent to Atelier Lune. They will answer you here.")
    expect(kit.status(buyer)).to_have_text("Requested")
    no_htmx(buyer)
    (request,) = kit.requests_of(shop, kit.order_ref(shop, "MIR-1004"))
    assert buyer.url.endswith(f"/returns/requests/{request.id}")
    assert kit.count_rows(shop, Photo, request.id) == 1

    open_request(artist, request.id, "Return")
    expect(artist.get_by_role("img", name="Photo 1, sent by the buyer").first).to_be_visible()
    kit.write_message(artist, "Sorry about that! A prepaid label is on its way.", javascript=False)
    expect(artist.get_by_role("status").first).to_have_text("Your message was sent.")
    kit.take_step(artist, "accept", "Accept and give return instructions",
                  {"Return instructions for the buyer": "Post it back with the label."}, javascript=False)
    expect(kit.status(artist)).to_have_text("Accepted - return instructions given")

    # Without scripts, the buyer sees the news by opening the page again.
    buyer.reload()
    expect(kit.timeline(buyer)).to_contain_text("Sorry about that! A prepaid label is on its way.")
    expect(kit.status(buyer)).to_have_text("Accepted - return instructions given")

    # A damaged mug: the button does not say it came back in good condition.
    kit.take_step(artist, "receive", "Product received", javascript=False)
    kit.take_step(artist, "initiate_refund", "Initiate the refund", javascript=False)
    expect(kit.status(artist)).to_have_text("Refund initiated")
    buyer.reload()
    expect(kit.status(buyer)).to_have_text("Refund initiated")

    kit.mark_refund_paid(open_page(**NO_JS), "MIR-1004")
    buyer.reload()
    expect(kit.status(buyer)).to_have_text("Refunded")
    (request,) = kit.requests_of(shop, kit.order_ref(shop, "MIR-1004"))
    assert request.status == "refunded"
    assert kit.refund_of(shop, request.id).state == "completed"


def test_cancel_without_javascript(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(**NO_JS), CAMILLE)
    lune = kit.sign_in(open_page(**NO_JS), LUNE)
    kit.goto_return_request(buyer, shop, "MIR-1002")
    every = buyer.locator("form#mr-cancel-all")
    every.get_by_label("Your message to the artists").fill("Please cancel, I ordered twice.")
    kit.submit(buyer, every.get_by_role("button", name="Ask every artist to cancel"), javascript=False)
    expect(buyer.get_by_role("status").first).to_have_text(
        "Your cancellation requests were sent to Atelier Lune, Bois & Fil.")
    requests = {r.artist_name: r for r in kit.requests_of(shop, kit.order_ref(shop, "MIR-1002"))}
    assert sorted(requests) == sorted([LUNE, BOIS])

    open_request(lune, requests[LUNE].id, "Cancellation")
    kit.take_step(lune, "refuse_order", "Refuse the order (refund the buyer)", confirm=True, javascript=False)
    expect(kit.status(lune)).to_have_text("Order refused - refund initiated")
    buyer.reload()
    expect(buyer.locator(f"#mr-part-{kit.artist_ref(shop, LUNE)} .mr-cancel-request")).to_contain_text(
        "Order refused - refund initiated")


def test_form_error_without_javascript(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(**NO_JS), CAMILLE)
    kit.goto_return_request(buyer, shop, "MIR-1004")
    with buyer.expect_navigation():
        kit.line(buyer, "Speckled mug").get_by_role("link", name="Request return").click()
    form = kit.return_form(buyer, "Speckled mug")
    kit.fill_return_form(form, quantity=3, kind="exchange", reason="Changed my mind", comment="Three, please.")
    kit.submit(buyer, form.get_by_role("button", name="Submit a request"), javascript=False)
    # The page again, with the form open, its message and what was typed.
    form = kit.return_form(buyer, "Speckled mug")
    wanted = form.get_by_label("For an exchange: the product you would like instead")
    expect(wanted).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_role("alert")).to_have_text("Choose the product you would like instead.")
    expect(form.get_by_label("Quantity", exact=True)).to_have_value("3")
    expect(form.get_by_label("Comment (optional)")).to_have_value("Three, please.")
    assert kit.requests_of(shop, kit.order_ref(shop, "MIR-1004")) == []


def test_double_click_without_javascript(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(**NO_JS), CAMILLE)
    kit.goto_return_request(buyer, shop, "MIR-1004")
    with buyer.expect_navigation():
        kit.line(buyer, "Speckled mug").get_by_role("link", name="Request return").click()
    form = kit.return_form(buyer, "Speckled mug")
    kit.fill_return_form(form, quantity=1, reason="Changed my mind")
    # Without JavaScript the browser posts twice and abandons the first
    # navigation for the second: wait for where the page lands, not for one
    # particular navigation.
    form.get_by_role("button", name="Submit a request").dblclick()
    buyer.wait_for_url("**/returns/requests/*")
    expect(kit.status(buyer)).to_have_text("Requested")
    requests = kit.requests_of(shop, kit.order_ref(shop, "MIR-1004"))
    assert [(r.product_name, r.quantity) for r in requests] == [("Speckled mug", 1)]


def test_a_refused_cancellation_opens_at_its_part_without_javascript(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(**NO_JS), CAMILLE)
    kit.goto_return_request(buyer, shop, "MIR-1002")
    bois = kit.artist_ref(shop, BOIS)
    kit.set_stage(shop, "MIR-1002", BOIS, "accepted")  # processed while the page was open
    form = buyer.locator(f"form#mr-cancel-form-{bois}")
    form.get_by_label("Your message to Bois & Fil").fill("Please cancel.")
    kit.submit(buyer, form.get_by_role("button", name="Request cancellation"), javascript=False)
    assert buyer.url.endswith(f"#mr-cancel-{bois}")
    alert = buyer.locator(f"#mr-cancel-{bois}").get_by_role("alert")
    expect(alert).to_contain_text("has already been processed")
    expect(alert).to_be_in_viewport()
    assert kit.requests_of(shop, kit.order_ref(shop, "MIR-1002")) == []
