"""What a person does in the demo shop, written once for every browser test.

Each helper clicks, types and reads the way a buyer or an artist would: by
the words on the page (roles, labels, button names), never by posting to a
URL. With JavaScript on, htmx answers in place; with it off, the same
clicks post the forms and the browser follows the redirect.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from mirette_returns_plugin.models import Message, Refund, Request

from .server import HTMX_VERSIONS, LiveShop

#: Every test of a module marked with this runs under htmx 4 (the plugin's
#: own) and under htmx 2 (loaded by the shop's layout instead).
both_htmx = pytest.mark.parametrize("shop", HTMX_VERSIONS, indirect=True)

# The seeded people (mirette_returns_plugin/demo/seed.py), by the name the
# account switch shows.
CAMILLE = "Camille Martin"
ALEX = "Alex Morgan"
LUNE = "Atelier Lune"
BOIS = "Bois & Fil"
VERRE = "Verre Soufflé"
SUPPORT = "Sam from support"


# --------------------------------------------------------------------------- #
# Signing in, finding one's way
# --------------------------------------------------------------------------- #


def sign_in(page: Page, name: str, *, language: str | None = "en") -> Page:
    """Pick ``name`` on the demo's account switch, then a language (the seeded
    French-speaking people would otherwise see French pages)."""
    page.goto("/switch")
    with page.expect_navigation():
        page.get_by_role("button", name=f"Sign in as {name}").click()
    if language and page.locator("html").get_attribute("lang") != language:
        choose_language(page, language)
    expect(page.locator(".account-box__who strong")).to_have_text(name)
    return page


def choose_language(page: Page, code: str) -> None:
    """The EN / FR switch in the shop's header."""
    with page.expect_navigation():
        page.locator("form.language-switch").locator(f'button[value="{code}"]').click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def open_return_request(page: Page, order_number: str) -> None:
    """My orders -> the order -> "Return Request", as the help page says."""
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="My orders").click()
    with page.expect_navigation():
        page.get_by_role("link", name=f"View order {order_number}").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Return Request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Return Request")


def goto_return_request(page: Page, shop: LiveShop, order_number: str) -> None:
    """The "Return Request" page of an order, by its address (the stories
    that are not about finding it skip the menus)."""
    page.goto(f"/returns/orders/{order_ref(shop, order_number)}")
    expect(page.locator(".mr-order h1")).to_be_visible()


def line(page: Page, product: str) -> Locator:
    """One line of the Return Request page, by its product's name."""
    return page.locator("li.mr-line").filter(has=page.get_by_role("heading", name=product, exact=True))


def return_form(page: Page, product: str) -> Locator:
    return line(page, product).locator("form.mr-return-form")


def open_return_form(page: Page, product: str) -> Locator:
    """Click "Request return" on the line of ``product``."""
    line(page, product).get_by_role("link", name="Request return").click()
    form = return_form(page, product)
    expect(form).to_be_visible()
    return form


def fill_return_form(form: Locator, *, quantity: int = 1, kind: str = "return", reason: str,
                     comment: str = "", photo: Path | None = None, wanted: str | None = None) -> None:
    form.get_by_label("Quantity", exact=True).fill(str(quantity))
    form.get_by_label("Return, for a refund" if kind == "return" else "Exchange, for another product").check()
    form.get_by_label("Reason", exact=True).select_option(label=reason)
    if comment:
        form.get_by_label("Comment (optional)").fill(comment)
    if wanted is not None:
        # The options read "Speckled mug – Moss – €24.00": pick by the product's words.
        choice = form.get_by_label("For an exchange: the product you would like instead")
        value = choice.locator("option", has_text=wanted).get_attribute("value")
        choice.select_option(value=value)
    if photo is not None:
        form.locator('input[type="file"][name="photos"]').set_input_files(photo)


def submit(page: Page, button: Locator, *, javascript: bool = True) -> None:
    """Click a submit button; without JavaScript, wait for the page it leads to."""
    if javascript:
        button.click()
    else:
        with page.expect_navigation():
            button.click()


def open_request_from_inbox(page: Page, request_id: int, kind: str = "Return") -> None:
    """The artist's inbox -> one request."""
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Artist inbox").click()
    row = page.locator(f"#mr-row-{request_id}")
    expect(row.locator(".mr-badge-unread")).to_have_text("New")
    with page.expect_navigation():
        row.get_by_role("link", name=f"{kind} #{request_id}").click()


def action_form(page: Page, action: str) -> Locator:
    """One step offered on a details page (``accept``, ``receive``...)."""
    return page.locator(f"form#mr-action-{action}")


def take_step(page: Page, action: str, button: str, fields: dict[str, str] | None = None, *,
              javascript: bool = True, confirm: bool = False) -> None:
    """Fill the step's fields (by their labels), tick the confirmation, click."""
    form = action_form(page, action)
    for label, value in (fields or {}).items():
        form.get_by_label(label).fill(value)
    if confirm:
        form.get_by_label("I confirm: this cannot be undone.").check()
    submit(page, form.get_by_role("button", name=button), javascript=javascript)
    if javascript:
        expect(action_form(page, action)).to_have_count(0)


def write_message(page: Page, body: str, *, javascript: bool = True) -> None:
    form = page.locator("form#mr-reply")
    form.get_by_label("Message").fill(body)
    submit(page, form.get_by_role("button", name="Send"), javascript=javascript)
    # Sent once it is in the thread (in place, or on the page it led to).
    expect(timeline(page)).to_contain_text(body.strip())


def status(page: Page) -> Locator:
    return page.locator("#mr-summary .mr-status-line .mr-status")


def timeline(page: Page) -> Locator:
    return page.locator("#mr-timeline")


def mark_refund_paid(page: Page, order_number: str) -> None:
    """The demo's Payments page plays the payment provider: "Mark as paid"
    (the support team's page)."""
    sign_in(page, SUPPORT)
    page.goto("/payments/?show=waiting")
    row = page.locator("tbody tr").filter(has_text=order_number)
    with page.expect_navigation():
        row.get_by_role("button", name=re.compile(r"^Mark as paid")).click()
    expect(page.locator(".flash--success")).to_contain_text("is paid")


# --------------------------------------------------------------------------- #
# In place, really
# --------------------------------------------------------------------------- #


class Stay:
    """What :func:`stays_on_page` saw."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.loads = 0

    def count_load(self, _page: Page) -> None:
        self.loads += 1


@contextmanager
def stays_on_page(page: Page) -> Iterator[Stay]:
    """Fails unless the page inside was never loaded again: a mark set on
    ``window`` survives (a full load would wipe it) and no load event fired."""
    page.evaluate("window.__marker = 1")
    stay = Stay(page)
    page.on("load", stay.count_load)
    yield stay
    page.remove_listener("load", stay.count_load)
    assert page.evaluate("window.__marker") == 1, "the page was loaded again"
    assert stay.loads == 0, "the page was loaded again"
    # A fragment swapped into the wrong element leaves its id twice in the page.
    twice = page.evaluate("""() => {
        const ids = [...document.querySelectorAll('[id]')].map(el => el.id);
        return ids.filter((id, index) => ids.indexOf(id) !== index);
    }""")
    assert not twice, f"ids used twice after an in-place answer: {twice}"


def htmx_version(page: Page) -> str | None:
    return page.evaluate("window.htmx ? String(window.htmx.version) : null")


# --------------------------------------------------------------------------- #
# Files and the database
# --------------------------------------------------------------------------- #


def photo_file(folder: Path, name: str = "chipped-mug.png") -> Path:
    """A real photo as a phone would send it (a small PNG)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    image = Image.new("RGB", (120, 90), (196, 120, 84))
    for x in range(40, 80):
        for y in range(30, 60):
            image.putpixel((x, y), (40, 60, 90))
    image.save(path, format="PNG")
    return path


def requests_of(shop: LiveShop, order_ref: str | None = None) -> list[Request]:
    """The plugin's requests (of one order), oldest first, detached."""
    with shop.database() as session:
        query = sa.select(Request).order_by(Request.id)
        if order_ref is not None:
            query = query.where(Request.order_ref == order_ref)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def order_ref(shop: LiveShop, number: str) -> str:
    from mirette_returns_plugin.demo.models import ShopOrder

    with shop.database() as session:
        return str(session.scalar(sa.select(ShopOrder.id).where(ShopOrder.number == number)))


def artist_ref(shop: LiveShop, name: str) -> str:
    from mirette_returns_plugin.demo.models import ArtistProfile

    with shop.database() as session:
        return str(session.scalar(sa.select(ArtistProfile.id).where(ArtistProfile.name == name)))


def set_stage(shop: LiveShop, number: str, artist_name: str, state: str) -> None:
    """Move an artist's part of an order, as the shop would (``"accepted"``...)."""
    from mirette_returns_plugin.demo.models import Shipment, ShopOrder

    artist = int(artist_ref(shop, artist_name))
    with shop.database() as session:
        shipment = session.scalar(sa.select(Shipment).join(ShopOrder).where(
            ShopOrder.number == number, Shipment.artist_id == artist))
        shipment.state = state
        session.commit()


def count_rows(shop: LiveShop, model: type, request_id: int) -> int:
    with shop.database() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model)
                                  .where(model.request_id == request_id)))


def messages_of(shop: LiveShop, request_id: int) -> list[str]:
    """The bodies of a request's messages, oldest first."""
    with shop.database() as session:
        return list(session.scalars(sa.select(Message.body).where(Message.request_id == request_id)
                                    .order_by(Message.id)))


def refund_of(shop: LiveShop, request_id: int) -> Refund | None:
    with shop.database() as session:
        found = session.scalar(sa.select(Refund).where(Refund.request_id == request_id))
        session.expunge_all()
        return found


