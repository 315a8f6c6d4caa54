"""The buyer's forms on a phone (375 px wide): nothing is cut, and headings
are never smaller than the labels under them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from . import kit
from .kit import CAMILLE

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}

#: What Chromium computed for a form: how wide each text needs to be and how
#: wide its box is, and the font sizes of headings and labels.
MEASURE = """form => {
    const px = el => parseFloat(getComputedStyle(el).fontSize);
    // The width a text needs in an element's font, measured in a span that
    // never wraps (a select shows its chosen option on one line).
    const needs = (el, text) => {
        const probe = document.createElement('span');
        const style = getComputedStyle(el);
        probe.style.font = style.font;
        probe.style.letterSpacing = style.letterSpacing;
        probe.style.whiteSpace = 'pre';
        probe.style.position = 'absolute';
        probe.textContent = text;
        document.body.appendChild(probe);
        const width = probe.getBoundingClientRect().width;
        probe.remove();
        return width;
    };
    const room = el => {
        const style = getComputedStyle(el);
        return el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    };
    const select = form.querySelector('select[name="reason_code"]');
    const email = form.querySelector('input[type="email"]');
    return {
        page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
        form: [form.scrollWidth, form.clientWidth],
        reasons: select && [...select.options].map(o => [o.text, needs(select, o.text), room(select)]),
        email: email && [email.value, needs(email, email.value), room(email), email.scrollWidth, email.clientWidth],
        heading: px(form.querySelector('h2, h3, h4')),
        labels: [...form.querySelectorAll('label, legend')].map(px),
    };
}"""


def measure(form) -> dict:
    return form.evaluate(MEASURE)


#: Room a select keeps for its arrow, beside its padding.
SELECT_ARROW = 24


def assert_fits(m: dict) -> None:
    page_width, viewport = m["page"]
    assert page_width <= viewport, f"the page scrolls sideways: {m}"
    assert m["form"][0] <= m["form"][1], f"the form overflows: {m}"
    assert m["heading"] > max(m["labels"]), f"the form's title is not above its labels: {m}"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_return_form_fits_a_phone(shop, open_page, language: str) -> None:
    buyer = kit.sign_in(open_page(viewport=PHONE), CAMILLE, language=language)
    kit.goto_return_request(buyer, shop, "MIR-1004")
    buyer.locator("li.mr-line").first.locator("a.mr-button").click()
    form = buyer.locator("form.mr-return-form")
    expect(form).to_be_visible()
    m = measure(form)
    assert_fits(m)
    for text, needs, room in m["reasons"]:
        assert needs + SELECT_ARROW <= room, f"“{text}” is cut: {needs:.0f} px in {room:.0f} px"
    # What the options no longer say is said under the list, where it wraps.
    hint = form.locator("p.mr-hint[id$='-reason_code-hint']")
    expect(hint).to_contain_text("Damaged product" if language == "en" else "Produit endommagé")
    assert hint.evaluate("el => el.scrollWidth <= el.clientWidth")


def test_the_cancel_form_fits_a_phone(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(viewport=PHONE), CAMILLE)
    kit.goto_return_request(buyer, shop, "MIR-1001")
    form = buyer.locator("form.mr-cancel-form").first
    expect(form).to_be_visible()
    m = measure(form)
    assert_fits(m)
    value, needs, room, scroll_width, client_width = m["email"]
    assert value == "camille@buyers.example"
    assert needs <= room and scroll_width <= client_width, f"the address is clipped: {m['email']}"
