"""Accessibility: axe-core on every page of the plugin, in English and in
French, and the return flow from the keyboard alone.

Each page's axe report is saved under test-results/axe/ and the counts are
printed at the end of the run. A serious or critical violation fails the
test; the others are in the reports and the counts. Errors read out as
alerts with the focus on the field are checked in test_form_errors.py, news
read out by a live region in test_in_place.py.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from mirette_returns_plugin.models import Request

from . import axe, kit
from .kit import ALEX, BOIS, CAMILLE, SUPPORT

pytestmark = pytest.mark.browser


def become(page: Page, name: str) -> None:
    """Sign in as ``name`` on the account switch, in whatever language the page is in."""
    page.goto("/switch")
    card = page.locator("li.account-card").filter(has=page.get_by_text(name, exact=True))
    with page.expect_navigation():
        card.get_by_role("button").click()


def request_on(shop, number: str, kind: str) -> Request:
    (found,) = [r for r in kit.requests_of(shop, kit.order_ref(shop, number)) if r.kind == kind]
    return found


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_page_passes_axe(shop, open_page, language: str) -> None:
    page = open_page()
    page.goto("/switch")
    kit.choose_language(page, language)
    problems: list[str] = []

    def check(name: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator(".mr")).to_have_count(1)
        problems.extend(axe.check(page, name, language))

    mugs = kit.order_ref(shop, "MIR-1004")
    become(page, CAMILLE)
    page.goto(f"/returns/orders/{mugs}")
    check("return-request")
    mug_line = kit.line(page, "Speckled mug")
    mug_line.locator(".mr-line-actions a").click()
    form = mug_line.locator("form.mr-return-form")
    expect(form).to_be_visible()
    check("return-form")
    form.locator("input[name=kind][value=exchange]").check()
    form.locator("select[name=reason_code]").select_option("changed_mind")
    form.locator("button[type=submit]").click()
    expect(form.locator("[aria-invalid=true]").first).to_be_visible()
    check("return-form-with-errors")
    page.goto(f"/returns/orders/{kit.order_ref(shop, 'MIR-1002')}")
    expect(page.locator("form.mr-cancel-form")).to_have_count(3)
    check("cancellation-forms")

    scarf = request_on(shop, "MIR-2003", "exchange")
    become(page, ALEX)
    page.goto(f"/returns/requests/{scarf.id}")
    expect(kit.timeline(page).locator("li")).not_to_have_count(0)
    check("details-buyer")
    page.goto(f"/returns/requests/{request_on(shop, 'MIR-2005', 'cancellation').id}")
    check("details-cancellation")

    become(page, BOIS)
    page.goto("/returns/artist/inbox")
    expect(page.locator(f"#mr-row-{scarf.id}")).to_be_visible()
    check("artist-inbox")
    page.goto(f"/returns/requests/{scarf.id}")
    expect(page.locator("form.mr-action")).not_to_have_count(0)
    check("details-artist")

    become(page, SUPPORT)
    page.goto("/returns/support/requests")
    check("support-list")
    page.goto("/returns/requests/999999")
    check("not-found")

    assert not problems, "\n".join(problems)


def tab_to(page: Page, is_there: str, *, most: int = 80) -> None:
    """Press Tab until ``is_there`` (a JavaScript test on the focused element) holds."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => {is_there})(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached an element where {is_there}")


def test_return_request_from_the_keyboard(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(), CAMILLE)
    kit.open_return_request(buyer, "MIR-1004")
    buyer.locator("body").focus()

    # Tab to the mug's "Request return" and open the form with Enter.
    tab_to(buyer, "el.textContent.trim() === 'Request return' && el.closest('li').textContent.includes('Speckled mug')")
    focus_ring = buyer.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert focus_ring != "none", "the focused link shows no focus ring"
    buyer.keyboard.press("Enter")
    form = kit.return_form(buyer, "Speckled mug")
    expect(form).to_be_visible()

    # Fill it: quantity, return (already chosen), a reason, a comment.
    tab_to(buyer, "el.name === 'quantity'")
    buyer.keyboard.type("2")
    tab_to(buyer, "el.name === 'reason_code'")
    for _ in range(4):  # "Choose a reason", three that need a photo, then "Wrong size or fit"
        buyer.keyboard.press("ArrowDown")
    expect(form.get_by_label("Reason", exact=True)).to_have_value("wrong_size")
    tab_to(buyer, "el.name === 'comment'")
    buyer.keyboard.type("Both are too small for my morning coffee.")

    # Submit with the keyboard: the notice gets the focus.
    tab_to(buyer, "el.type === 'submit' && el.textContent.trim() === 'Submit a request'")
    buyer.keyboard.press("Enter")
    notice = kit.line(buyer, "Speckled mug").get_by_role("status")
    expect(notice).to_have_text("Your request was sent to Atelier Lune. They will answer you here.")
    expect(notice).to_be_focused()
    (request,) = kit.requests_of(shop, kit.order_ref(shop, "MIR-1004"))
    assert (request.quantity, request.kind, request.reason_code, request.comment) == (
        2, "return", "wrong_size", "Both are too small for my morning coffee.")
