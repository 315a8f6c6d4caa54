"""Signed-out visitors go to the shop's sign-in page, and come back to the page they asked for."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, redirect, request, session
from flask_login import LoginManager

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import Account, db
from mirette_returns_plugin.sign_in import is_safe_next, safe_next
from tests.pagekit import HTMX, another_app, in_english, text_of
from tests.shop import ALEX, CAMILLE, account, line_ref, login, order_ref, user


def a_request(app: Flask) -> int:
    with app.test_request_context():
        return workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="other")).id


def add_sign_in_page(shop: Flask) -> None:
    """The shop's own sign-in view, checking ``next`` as docs/pages.md says."""

    @shop.route("/account/sign-in", methods=["GET", "POST"])
    def sign_in():
        if request.method == "GET":
            return "Sign in to My Shop"
        session["account_id"] = db.session.get(Account, int(request.form["account_id"])).id
        return redirect(safe_next(request.args.get("next"), "/"), code=303)


@pytest.fixture
def flask_login_shop(app_config, app):
    """A shop using Flask-Login, whose ``login_view`` is its sign-in page."""
    with another_app(app_config) as shop:
        manager = LoginManager(shop)
        manager.login_view = "sign_in"
        manager.user_loader(lambda user_id: db.session.get(Account, int(user_id)))
        add_sign_in_page(shop)
        yield shop


def sign_in_as(shop: Flask, client, email: str, location: str):
    with shop.app_context():
        account_id = account(email).id
    return client.post(location, data={"account_id": str(account_id)})


def test_a_signed_out_buyer_signs_in_and_lands_on_the_page(flask_login_shop):
    shop = flask_login_shop
    request_id = a_request(shop)
    client = in_english(shop.test_client())
    page = f"/returns/requests/{request_id}"
    sent = client.get(page)
    assert sent.status_code == 302
    location = urlsplit(sent.location)
    assert location.path == "/account/sign-in" and parse_qs(location.query) == {"next": [page]}
    back = sign_in_as(shop, client, CAMILLE, sent.location)
    assert back.status_code == 303 and back.location == page
    landed = client.get(back.location)
    assert landed.status_code == 200 and "Speckled mug" in text_of(landed)
    # The query string of the page comes back too; the artist inbox sends its visitor the same way.
    for asked in (f"/returns/orders/{order_ref_of(shop)}?x=1", "/returns/artist/inbox"):
        signed_out = shop.test_client().get(asked)
        assert signed_out.status_code == 302
        assert parse_qs(urlsplit(signed_out.location).query) == {"next": [asked]}


def order_ref_of(shop: Flask) -> str:
    with shop.app_context():
        return order_ref("MIR-1004")


def test_only_signed_out_page_views_are_sent_to_sign_in(flask_login_shop):
    shop = flask_login_shop
    request_id = a_request(shop)
    page = f"/returns/requests/{request_id}"
    # Someone signed in without a role on the request: the usual 404, no sign-in page.
    other = in_english(login(shop.test_client(), ALEX)).get(page)
    assert other.status_code == 404 and "This page does not exist" in text_of(other)
    # htmx asking for a fragment (the poll of a page left open): no sign-in page swapped into it.
    fragment = shop.test_client().get(f"{page}/news?after=1", headers=HTMX)
    assert fragment.status_code == 404
    # A post is never replayed after signing in.
    posted = shop.test_client().post(f"{page}/messages", data={"body": "hi"})
    assert posted.status_code == 404


def test_a_shop_names_its_sign_in_page_in_a_setting(app_config, app):
    for setting, expected in (("/account/sign-in", "/account/sign-in"), ("sign_in", "/account/sign-in"),
                              ("https://accounts.shop.example/login?shop=1", "https://accounts.shop.example/login")):
        with another_app({**app_config, "MIRETTE_RETURNS_LOGIN_URL": setting}) as shop:
            add_sign_in_page(shop)
            sent = shop.test_client().get("/returns/artist/inbox")
            assert sent.status_code == 302
            assert sent.location.split("?")[0] == expected
            assert parse_qs(urlsplit(sent.location).query)["next"] == ["/returns/artist/inbox"]


def test_without_a_sign_in_page_a_signed_out_visitor_gets_the_usual_answer(app, client_as):
    request_id = a_request(app)
    response = in_english(app.test_client()).get(f"/returns/requests/{request_id}")
    assert response.status_code == 404 and "This page does not exist" in text_of(response)


HOSTILE_NEXT = [
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example/",
    "http:evil.example", "javascript:alert(1)", "/\t/evil.example", "/\n/evil.example", "/\r/evil.example",
    " //evil.example", "\x00//evil.example", "data:text/html,hi", "evil.example", "", None, 42,
    "/returns\\..\\evil", "/\x7f/evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_a_hostile_next_is_not_followed(target):
    assert not is_safe_next(target)
    assert safe_next(target, "/") == "/"


@pytest.mark.parametrize("target", ["/", "/returns/requests/7", "/returns/orders/12?x=1#line", "/%2F%2Fevil.example"])
def test_a_path_of_the_site_is_followed(target):
    assert is_safe_next(target) and safe_next(target, "/") == target


def test_the_sign_in_page_refuses_a_hostile_next(flask_login_shop):
    shop = flask_login_shop
    client = shop.test_client()
    for target in ("//evil.example/returns", "https://evil.example/", "/\t/evil.example"):
        back = sign_in_as(shop, client, CAMILLE, f"/account/sign-in?next={target}")
        assert back.status_code == 303 and back.location == "/"
