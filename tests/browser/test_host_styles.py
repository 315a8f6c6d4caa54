"""The plugin's pages keep their layout under the shop's stylesheets.

Harbour Prints (examples/bootstrap_shop) is served with its own layout:
Bootstrap 5 and its own stylesheet, whose broad element rules shrink radios
and checkboxes to 8 px, make a legend bigger than a page title and put
headings in capitals. It is then served again with a deliberately hostile
stylesheet in Bootstrap's place (tests/assets/hostile-host.css). Either way
Chromium must compute, on the return form and on a request's page: controls
of at least 16 px, a page title larger than any other heading or legend, and
names shown as written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from .server import ASSETS, _QuietHandler

pytestmark = pytest.mark.browser

HOSTILE = (ASSETS / "hostile-host.css").read_text(encoding="utf-8")
BUYER, PASSWORD = "nora@buyers.example", "harbour-lights"
#: The smallest a radio button or checkbox may be, in CSS pixels.
SMALLEST_CONTROL = 16


@pytest.fixture
def harbour(tmp_path: Path) -> Iterator[str]:
    """Harbour Prints, seeded, served on a free port of 127.0.0.1."""
    from examples.bootstrap_shop import create_app
    from examples.bootstrap_shop.models import db

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'harbour.sqlite3'}",
        "MIRETTE_RETURNS_PHOTO_DIR": str(tmp_path / "photos"),
        "MAIL_SUPPRESS_SEND": True,
    })
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def styled_page(new_context, url: str, host: str) -> Page:
    page = new_context(base_url=url, viewport={"width": 1280, "height": 900}).new_page()
    if host == "hostile":
        page.route("**/static/vendor/bootstrap-*.min.css",
                   lambda route: route.fulfill(status=200, content_type="text/css", body=HOSTILE))
    page.goto("/login")
    page.get_by_label("Email").fill(BUYER)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    return page


def sizes(page: Page) -> dict:
    """What Chromium computed for the plugin's part of the page."""
    return page.evaluate("""() => {
        const root = document.querySelector('.mr');
        const px = el => parseFloat(getComputedStyle(el).fontSize);
        const box = el => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
        const title = root.querySelector('h1');
        const primary = root.querySelector('.mr-button-primary');
        return {
            accent: primary && getComputedStyle(primary).backgroundColor,
            headingFont: getComputedStyle(title).fontFamily,
            title: px(title),
            titleCase: getComputedStyle(title).textTransform,
            headings: [...root.querySelectorAll('h2, h3, h4, legend')]
                .filter(el => el.getClientRects().length).map(el => [el.tagName, el.textContent.trim(), px(el)]),
            controls: [...root.querySelectorAll('input[type=radio], input[type=checkbox]')]
                .filter(el => el.getClientRects().length).map(el => [el.name, ...box(el)]),
            fields: [...root.querySelectorAll(
                    'input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select')]
                .filter(el => el.getClientRects().length).map(el => [el.name, ...box(el)]),
            names: [...root.querySelectorAll('.mr-line-name, h2, h3, legend')]
                .map(el => [el.textContent.trim(), getComputedStyle(el).textTransform,
                            getComputedStyle(el).letterSpacing]),
        };
    }""")


def check_layout(page: Page, *, controls: set[str]) -> None:
    found = sizes(page)
    assert found["titleCase"] == "none"
    # Re-themed by the shop's --mirette-* properties (static/shop.css).
    assert found["accent"] == "rgb(31, 111, 139)"
    assert found["headingFont"].startswith('"Trebuchet MS"')
    bigger = [(tag, text, size) for tag, text, size in found["headings"] if size >= found["title"]]
    assert found["headings"] and not bigger, f"title {found['title']}px, not smaller: {bigger}"
    small = [(name, w, h) for name, w, h in found["controls"] if min(w, h) < SMALLEST_CONTROL]
    assert {name for name, *_ in found["controls"]} >= controls
    assert not small, f"controls under {SMALLEST_CONTROL}px: {small}"
    squashed = [(name, w, h) for name, w, h in found["fields"] if h < SMALLEST_CONTROL]
    assert not squashed, f"fields under {SMALLEST_CONTROL}px high: {squashed}"
    shouted = [(text, case, spacing) for text, case, spacing in found["names"]
               if case != "none" or spacing != "normal"]
    assert not shouted, f"shown in another case or spacing than written: {shouted}"


@pytest.mark.parametrize("host", ["bootstrap", "hostile"])
def test_forms_keep_their_layout_under_the_shops_stylesheet(new_context, harbour: str, host: str) -> None:
    page = styled_page(new_context, harbour, host)
    page.goto("/orders/HP-2002")
    with page.expect_navigation():
        page.get_by_role("link", name="Return Request").click()
    line = page.locator("li.mr-line").filter(has=page.get_by_role("heading", name="Lighthouse at dusk, A3"))
    line.get_by_role("link", name="Request return").click()  # opens the form in place
    form = line.locator("form.mr-return-form")
    expect(form).to_be_visible()
    check_layout(page, controls={"kind"})

    form.get_by_label("Reason", exact=True).select_option(label="Changed my mind")
    form.get_by_role("button", name="Submit a request").click()
    with page.expect_navigation():
        line.get_by_role("link", name="See details").click()
    expect(page.locator("input[name=confirm]").first).to_be_visible()
    check_layout(page, controls={"confirm"})
