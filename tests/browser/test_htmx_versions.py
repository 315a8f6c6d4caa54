"""The plugin under htmx 4 (its own, vendored) and under htmx 2 loaded by the
shop's layout instead (MIRETTE_RETURNS_INCLUDE_HTMX = False).

The stories themselves run under both versions (``kit.both_htmx`` on each
story module); this module checks that each run really had the htmx it
claims, configured by the plugin.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from . import kit
from .kit import ALEX

pytestmark = [pytest.mark.browser, kit.both_htmx]

SCRIPTS = {
    "htmx4": ("4.", "/returns/static/mirette_returns/htmx-4.0.1.min.js"),
    "htmx2": ("2.", "/test-assets/htmx-2.0.11.min.js"),
}


def expect_htmx(page: Page, htmx: str) -> None:
    version, src = SCRIPTS[htmx]
    scripts = page.locator("script[src*='htmx']")
    expect(scripts).to_have_count(1)
    expect(scripts).to_have_attribute("src", src)
    page.wait_for_function("() => window.htmx !== undefined")
    assert (kit.htmx_version(page) or "").startswith(version), kit.htmx_version(page)


def test_each_page_runs_one_htmx_configured_by_the_plugin(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(), ALEX)
    kit.goto_return_request(buyer, shop, "MIR-2003")
    expect_htmx(buyer, shop.htmx)
    with buyer.expect_navigation():
        kit.line(buyer, "Woven linen scarf").get_by_role("link", name="See details").click()
    expect_htmx(buyer, shop.htmx)

    # The plugin's configuration is the one htmx read (the first htmx-config
    # tag): no inline indicator style, and htmx 2 swaps a form's 422 answer.
    config = buyer.evaluate("() => ({indicator: htmx.config.includeIndicatorStyles,"
                            " handling: JSON.stringify(htmx.config.responseHandling || null)})")
    assert config["indicator"] is False
    if shop.htmx == "htmx2":
        assert '{"code":"422","swap":true}' in config["handling"]
    assert buyer.locator("style").count() == 0
