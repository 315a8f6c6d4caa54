"""The details page's poll sends its key in a header, under htmx 2 and 4, and hears "nothing new" cheaply."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mirette_returns_plugin import poll_keys

from . import kit
from .kit import ALEX

pytestmark = [pytest.mark.browser, kit.both_htmx]


def test_the_poll_carries_its_key_in_a_header_not_the_url(shop, open_page) -> None:
    buyer = kit.sign_in(open_page(), ALEX)
    (request,) = kit.requests_of(shop, kit.order_ref(shop, "MIR-2003"))
    buyer.goto(f"/returns/requests/{request.id}")
    expect(buyer.locator("#mr-poll")).to_have_count(1)
    with buyer.expect_response(lambda answer: "/news" in answer.url) as polled:
        pass
    answer = polled.value
    assert "key" not in answer.url
    assert answer.request.headers.get(poll_keys.HEADER.lower())
    # Nothing changed and the key is the page's own: the cheap "nothing new".
    assert answer.status == 204
