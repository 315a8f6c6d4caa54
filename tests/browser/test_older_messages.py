"""A long thread opens on its newest messages; "Older messages" brings the
rest, in place with htmx (2 and 4) and as a page of its own without
JavaScript."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import Account
from mirette_returns_plugin.models import Message
from tests.shop import line_ref, user

from . import kit
from .kit import CAMILLE, LUNE

pytestmark = pytest.mark.browser

#: One page and a bit: the second page holds the last 10 and the opening step.
MESSAGES = 60


def long_thread(shop) -> int:
    """A return of Camille's with ``MESSAGES`` messages, one a minute, the newest last."""
    with shop.app.test_request_context(), shop.database() as db:
        camille = db.query(Account).filter_by(email="camille@buyers.example").one()
        created = workflow.submit_return(user(camille.email), kit.order_ref(shop, "MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="changed_mind"))
        db.add_all([Message(request_id=created.id, author_role="buyer", author_ref=str(camille.id),
                            author_name=camille.name, body=f"Message number {n}",
                            created_at=created.created_at + timedelta(minutes=n))
                    for n in range(1, MESSAGES + 1)])
        db.commit()
        return created.id


def bodies(page: Page) -> list[str]:
    return kit.timeline(page).locator("li.mr-item-message .mr-text").all_inner_texts()


@kit.both_htmx
def test_older_messages_come_in_place(shop, open_page) -> None:
    request_id = long_thread(shop)
    artist = kit.sign_in(open_page(), LUNE)
    kit.open_request_from_inbox(artist, request_id)
    expect(kit.timeline(artist).locator("li.mr-item-message")).to_have_count(50)
    assert bodies(artist)[0] == f"Message number {MESSAGES}"
    with kit.stays_on_page(artist):
        kit.timeline(artist).get_by_role("link", name="Older messages").click()
        expect(kit.timeline(artist).locator("li.mr-item-message")).to_have_count(MESSAGES)
    assert bodies(artist) == [f"Message number {n}" for n in range(MESSAGES, 0, -1)]
    expect(kit.timeline(artist)).to_contain_text("sent the request")
    expect(kit.timeline(artist).get_by_role("link", name="Older messages")).to_have_count(0)


def test_older_messages_without_javascript(shop, open_page) -> None:
    request_id = long_thread(shop)
    buyer = kit.sign_in(open_page(java_script_enabled=False), CAMILLE)
    buyer.goto(f"/returns/requests/{request_id}")
    assert bodies(buyer)[:2] == [f"Message number {MESSAGES}", f"Message number {MESSAGES - 1}"]
    with buyer.expect_navigation():
        kit.timeline(buyer).get_by_role("link", name="Older messages").click()
    assert bodies(buyer) == [f"Message number {n}" for n in range(10, 0, -1)]
    expect(kit.timeline(buyer)).to_contain_text("sent the request")
    with buyer.expect_navigation():
        kit.timeline(buyer).get_by_role("link", name="Newest messages").click()
    assert bodies(buyer)[0] == f"Message number {MESSAGES}"
