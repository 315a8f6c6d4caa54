"""Script and HTML typed by a buyer or an artist is shown as text and never
runs. The pages' Content-Security-Policy would block an inline script even if
the escaping failed, so these pages are opened with the policy bypassed:
only the escaping stands between the payload and the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from . import kit
from .kit import CAMILLE, LUNE

pytestmark = pytest.mark.browser

COMMENT = "<script>alert('comment')</script><img src=x onerror=alert('comment-img')>"
MESSAGE = "\"><svg onload=alert('message')><img src=x onerror=alert('message-img')>"
INSTRUCTIONS = "</textarea><script>alert('instructions')</script>"
PAYLOADS = (COMMENT, MESSAGE, INSTRUCTIONS)


def expect_shown_as_text(page: Page) -> None:
    for payload in PAYLOADS[:2]:
        expect(kit.timeline(page)).to_contain_text(payload)
    expect(page.locator(".mr-instructions")).to_contain_text(INSTRUCTIONS)
    content = page.locator("#mr-detail")
    expect(content.locator("script")).to_have_count(0)
    expect(content.locator("svg")).to_have_count(0)
    expect(content.locator("img[src='x']")).to_have_count(0)


@kit.both_htmx
def test_payloads_are_shown_as_text(shop, open_page, page_problems) -> None:
    buyer = kit.sign_in(open_page(bypass_csp=True), CAMILLE)
    artist = kit.sign_in(open_page(bypass_csp=True), LUNE)

    kit.goto_return_request(buyer, shop, "MIR-1004")
    form = kit.open_return_form(buyer, "Speckled mug")
    kit.fill_return_form(form, reason="Changed my mind", comment=COMMENT)
    form.get_by_role("button", name="Submit a request").click()
    with buyer.expect_navigation():
        kit.line(buyer, "Speckled mug").get_by_role("link", name="See details").click()

    (request,) = kit.requests_of(shop, kit.order_ref(shop, "MIR-1004"))
    kit.open_request_from_inbox(artist, request.id)
    kit.write_message(artist, MESSAGE)
    kit.take_step(artist, "accept", "Accept and give return instructions",
                  {"Return instructions for the buyer": INSTRUCTIONS})

    # Arrived by htmx on the buyer's open page, then on a fresh load, and in
    # the artist's inbox row.
    expect(kit.status(buyer)).to_have_text("Accepted - return instructions given")
    expect_shown_as_text(buyer)
    expect_shown_as_text(artist)
    artist.reload()
    expect_shown_as_text(artist)
    assert kit.messages_of(shop, request.id) == [MESSAGE]
    assert page_problems.dialogs == []


def test_the_dialog_check_can_fail(new_context, shop) -> None:
    """The same payload, put into a page of this browser as HTML, does open a
    dialog: the checks above would see one."""
    page = new_context(base_url=shop.url, bypass_csp=True).new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/switch")
    with page.expect_event("dialog"):
        page.evaluate("html => document.body.insertAdjacentHTML('beforeend', html)", COMMENT)
    assert dialogs == ["comment-img"]
