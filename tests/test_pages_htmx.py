"""htmx: fragments only for plain htmx requests, Vary, a strict-CSP-friendly markup."""

from __future__ import annotations

import json

from mirette_returns_plugin import workflow
from tests.pagekit import (
    BOOSTED,
    HISTORY_RESTORE,
    HTMX,
    another_app,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    in_english,
    parse,
)
from tests.shop import ALEX, CAMILLE, LUNE, SUPPORT, line_ref, login, order_ref, user

HX_ATTRIBUTES = ("hx-get", "hx-post", "hx-target", "hx-swap", "hx-trigger", "hx-sync", "hx-include",
                 "hx-encoding", "hx-push-url", "hx-swap-oob")


def some_pages(app, client_as) -> list[tuple[str, str | None]]:
    with app.test_request_context():
        order, mug = order_ref("MIR-1004"), line_ref("MIR-1004", "Speckled mug")
        created = workflow.submit_return(user(CAMILLE), order, workflow.ReturnForm(
            line_ref=mug, quantity=1, kind="return", reason_code="other")).id
        pending = order_ref("MIR-1002")
    return [
        (f"/returns/orders/{order}", CAMILLE),
        (f"/returns/orders/{pending}", CAMILLE),
        (f"/returns/orders/{order}/lines/{mug}/return", CAMILLE),
        (f"/returns/requests/{created}", CAMILLE),
        (f"/returns/requests/{created}", LUNE),
        (f"/returns/requests/{created}", SUPPORT),
        ("/returns/artist/inbox", LUNE),
        ("/returns/support/requests", SUPPORT),
        (f"/returns/requests/{created}", ALEX),  # the 404 page
    ]


def test_fragment_only_for_a_plain_htmx_request(app, client_as):
    with app.app_context():
        order, mug = order_ref("MIR-1004"), line_ref("MIR-1004", "Speckled mug")
    client = client_as(CAMILLE)
    url = f"/returns/orders/{order}/lines/{mug}/return"
    fragment = client.get(url, headers=HTMX)
    assert "<html" not in fragment.get_data(as_text=True)
    assert parse(fragment).one("form").get("id") == f"mr-return-{mug}"
    for headers in (BOOSTED, HISTORY_RESTORE, {}):
        page = client.get(url, headers=headers)
        assert "<html" in page.get_data(as_text=True), headers
        assert parse(page).by_id("mr-order") is not None
    for response in (fragment, page):
        vary = {part.strip() for part in response.headers["Vary"].split(",")}
        assert {"HX-Request", "HX-Boosted", "HX-History-Restore-Request"} <= vary


def test_pages_carry_head_assets_and_no_inline_script_or_style(app, client_as):
    for url, email in some_pages(app, client_as):
        response = client_as(email).get(url)
        assert response.status_code in (200, 404), url
        page = parse(response)
        head = page.find("head")
        scripts = page.find_all("script")
        assert all(s.get("src") and not s.text for s in scripts), url
        assert any(s.get("src").endswith("htmx-4.0.1.min.js") for s in scripts), url
        assert any(link.get("href", "").endswith("mirette-returns.css") for link in head.find_all("link"))
        meta = head.find("meta", name="htmx-config")
        config = json.loads(meta.get("content"))
        rules = {rule["code"]: rule for rule in config["responseHandling"]}
        assert rules["422"]["swap"] is True and rules["204"]["swap"] is False
        assert config["includeIndicatorStyles"] is False
        # htmx 4 reads its configuration when it loads: the meta tag comes first.
        order = [node for node in head.iter() if node.tag in ("meta", "script")]
        assert order.index(meta) < order.index(next(s for s in scripts if "htmx" in s.get("src")))
        assert page.find("style") is None
        for node in page.iter():
            assert "style" not in node.attrs, (url, node.tag)
            assert not any(name.startswith("on") or name.startswith("hx-on") for name in node.attrs), url
            assert not (node.get("href") or "").startswith("javascript:")
            assert "hx-disable" not in node.attrs


def test_forms_post_for_real_with_a_token_and_htmx_on_the_element(app, client_as):
    for url, email in some_pages(app, client_as):
        # The plugin's part of the page (the shop's layout has its own forms).
        page = parse(client_as(email).get(url)).find(class_="mr")
        for form in page.find_all("form"):
            method = (form.get("method") or "get").lower()
            if method == "post":
                assert form.get("action"), url
                assert form.find("input", name="csrf_token") is not None, (url, form.get("id"))
                # Without JavaScript an action may end with the anchor where its answer shows.
                assert form.get("hx-post") == form.get("action").split("#")[0], (url, form.get("id"))
                assert form.get("hx-sync") == "this:drop"
                if form.find("input", type="file") is not None:
                    assert form.get("enctype") == "multipart/form-data"
        # Every element that asks htmx for something carries its own attributes
        # (htmx 4 does not inherit them).
        for node in page.iter():
            if any(name in node.attrs for name in ("hx-target", "hx-swap", "hx-trigger", "hx-include")):
                assert "hx-get" in node.attrs or "hx-post" in node.attrs, (url, node.tag, node.attrs)
        # htmx 2 would let an element inside a form inherit the form's
        # hx-sync, and drop the form's submit while that element's request runs.
        for form in page.find_all("form"):
            for node in form.iter():
                if "hx-get" in node.attrs or "hx-post" in node.attrs:
                    assert node.get("hx-sync", "").startswith("this:"), (url, node.tag, node.attrs)


def test_422_fragment_for_htmx_and_full_page_without(app, client_as):
    with app.app_context():
        order, mug = order_ref("MIR-1004"), line_ref("MIR-1004", "Speckled mug")
    client = client_as(CAMILLE)
    url = f"/returns/orders/{order}/lines/{mug}/return"
    data = {"quantity": "50", "kind": "return", "reason_code": "other"}
    fragment = client.post(url, data=data, headers=HTMX)
    assert fragment.status_code == 422 and "<html" not in fragment.get_data(as_text=True)
    assert parse(fragment).one("li", class_="mr-line").get("id") == f"mr-line-{mug}"
    page = client.post(url, data=data)
    assert page.status_code == 422 and "<html" in page.get_data(as_text=True)


def test_a_shop_that_loads_its_own_htmx(app_config, app):
    with another_app({**app_config, "MIRETTE_RETURNS_INCLUDE_HTMX": False,
                      "MIRETTE_RETURNS_BASE_TEMPLATE": "mirette_returns/base.html"}) as other:
        shop_with_own_htmx(other)


def shop_with_own_htmx(other):
    client = in_english(login(other.test_client(), CAMILLE))
    with other.app_context():
        order = order_ref("MIR-1004")
    page = parse(client.get(f"/returns/orders/{order}"))
    scripts = [s.get("src") for s in page.find_all("script")]
    assert not any("htmx" in src for src in scripts)
    assert page.find("meta", name="htmx-config") is not None
    # The plugin's own layout: its three blocks, no shop navigation.
    assert page.find("body").get("class") == "mr-standalone"
    assert page.find("title").text.startswith("Return Request")
