#!/usr/bin/env python3
"""Take the README's screenshots of the plugin, inside the demo shop.

Starts the demo shop (freshly seeded, on a free port of 127.0.0.1), drives a
buyer and an artist through a return in Chromium, and saves PNGs of the main
screens at a desktop (1280x900) and a phone (390x844) width under
docs/screenshots/ (the whole page at the desktop width, one screen at the
phone width):

    return-request     the buyer's "Return Request" page of an order
    form-error         "Request return" with a message from the server
    details-thread     "See details": status, refund, photo and the thread
    artist-inbox       the artist's inbox
    artist-request     the artist's page of one request, with its steps
    support-insights   support's insights of the last 90 days, on a generated history
    partial-refund     "See details" of a return refunded less than the estimate, as the buyer reads it

Run from the repository, with the test requirements installed::

    python scripts/screenshots.py            # MIRETTE_CHROMIUM=/path/to/chromium if elsewhere
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402
from playwright.sync_api import Locator, Page, expect, sync_playwright  # noqa: E402

from mirette_returns_plugin.demo import create_app  # noqa: E402
from tests.browser import kit  # noqa: E402
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, seed_template, serve  # noqa: E402

OUTPUT = ROOT / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def shoot(page: Page, name: str, show: Locator | None = None) -> None:
    """Save ``name``-desktop.png (the whole page) and ``name``-phone.png (one
    screen, scrolled to ``show`` when given)."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        if show is None:
            page.evaluate("window.scrollTo(0, 0)")
        else:
            show.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 16)")
        path = OUTPUT / f"{name}-{size}.png"
        page.screenshot(path=str(path), full_page=size == "desktop", animations="disabled", caret="hide")
        print(f"saved {path.relative_to(ROOT)}")
    page.set_viewport_size(SIZES["desktop"])


def chipped_mug_photo(folder: Path) -> Path:
    """A simple drawing of a blue mug with a chip, as the buyer's photo."""
    image = Image.new("RGB", (480, 360), (236, 229, 218))
    draw = ImageDraw.Draw(image)
    draw.rectangle((140, 90, 310, 290), fill=(44, 70, 112))
    draw.ellipse((140, 70, 310, 110), fill=(64, 94, 140))
    draw.arc((290, 140, 370, 240), start=270, end=90, fill=(44, 70, 112), width=18)
    draw.polygon([(200, 78), (226, 78), (214, 104)], fill=(236, 229, 218))
    path = folder / "chipped-mug.png"
    image.save(path)
    return path


def main() -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        with serve(seed_template(folder), folder / "shop") as shop, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            expect.set_options(timeout=20_000)
            buyer = browser.new_context(base_url=shop.url, viewport=SIZES["desktop"]).new_page()
            artist = browser.new_context(base_url=shop.url, viewport=SIZES["desktop"]).new_page()
            kit.sign_in(buyer, kit.CAMILLE)
            kit.sign_in(artist, kit.LUNE)

            kit.open_return_request(buyer, "MIR-1004")
            shoot(buyer, "return-request")

            # An exchange with no product chosen: the server's message, in place.
            form = kit.open_return_form(buyer, "Serving bowl")
            kit.fill_return_form(form, kind="exchange", reason="Wrong size or fit",
                                 comment="Lovely, but too small for a family dinner.")
            form.get_by_role("button", name="Submit a request").click()
            expect(form.locator("[aria-invalid=true]").first).to_be_visible()
            shoot(buyer, "form-error", show=form)

            # A return with a photo, answered by the artist.
            form = kit.open_return_form(buyer, "Speckled mug")
            kit.fill_return_form(form, reason="Damaged product",
                                 comment="One mug arrived with a chip on the rim.",
                                 photo=chipped_mug_photo(folder))
            form.get_by_role("button", name="Submit a request").click()
            mug = kit.line(buyer, "Speckled mug")
            expect(mug.get_by_role("status")).to_be_visible()
            request_id = max(r.id for r in kit.requests_of(shop))
            kit.open_request_from_inbox(artist, request_id)
            kit.write_message(artist, "I am so sorry! Please keep it wrapped; I am sending you a prepaid label.")
            kit.take_step(artist, "accept", "Accept and give return instructions",
                          {"Return instructions for the buyer":
                           "Drop the parcel at any post office with the prepaid label I emailed you."})
            with buyer.expect_navigation():
                mug.get_by_role("link", name="See details").click()
            kit.write_message(buyer, "Thank you, it leaves tomorrow morning.")
            shoot(buyer, "details-thread", show=kit.timeline(buyer))

            artist.goto("/returns/artist/inbox")
            shoot(artist, "artist-inbox")
            artist.goto(f"/returns/requests/{request_id}")
            shoot(artist, "artist-request", show=artist.locator("#mr-summary"))

            # A bowl back with a chip from its trip home: less than the estimate, explained.
            kit.open_return_request(buyer, "MIR-1004")
            form = kit.open_return_form(buyer, "Serving bowl")
            kit.fill_return_form(form, reason="Changed my mind", comment="It does not suit our table after all.")
            form.get_by_role("button", name="Submit a request").click()
            expect(kit.line(buyer, "Serving bowl").get_by_role("status")).to_be_visible()
            bowl_id = max(r.id for r in kit.requests_of(shop))
            artist.goto(f"/returns/requests/{bowl_id}")
            kit.take_step(artist, "accept", "Accept and give return instructions",
                          {"Return instructions for the buyer": "Wrap it well and send it to the studio."})
            # The step stays on offer (the amount may be decided again until the
            # refund starts): wait for the decision instead of the form to go.
            decide = kit.action_form(artist, "decide_refund")
            decide.get_by_label("Amount to refund").fill("40.00")
            decide.get_by_label("Why less is refunded, shown to the buyer").fill(
                "The bowl came back with a chip on its foot ring: I can only sell it as a second.")
            decide.get_by_role("button", name="Refund less: the item came back used, incomplete or damaged").click()
            expect(artist.locator("#mr-refund-decision")).to_be_visible()
            buyer.goto(f"/returns/requests/{bowl_id}")
            shoot(buyer, "partial-refund", show=buyer.locator("#mr-summary"))
            browser.close()
        shoot_insights(folder)


def shoot_insights(folder: Path) -> None:
    """The support team's insights, on a shop with a generated history (the
    seeded one has too few requests to chart)."""
    (folder / "insights").mkdir()
    template = seed_template(folder / "insights")
    from benchmarks.marketplace import Scale, generate

    with create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{template}", "DEMO_SEED": False}).app_context():
        generate(Scale(orders=1500, requests=3000, messages=9000, artists=40, busiest=300))
    with serve(template, folder / "insights-shop") as shop, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        support = browser.new_context(base_url=shop.url, viewport=SIZES["desktop"]).new_page()
        kit.sign_in(support, kit.SUPPORT)
        today = date.today()
        support.goto(f"/returns/support/insights?from={today - timedelta(days=89)}&to={today}")
        shoot(support, "support-insights", show=support.locator("#mr-insights-waits"))
        browser.close()


if __name__ == "__main__":
    main()
