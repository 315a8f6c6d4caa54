"""CSRF: the plugin checks Flask-WTF's token itself, or leaves it to the shop's CSRFProtect."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask_wtf.csrf import CSRFProtect

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Message, Request
from tests.pagekit import (
    HTMX,
    another_app,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    in_english,
    parse,
    submit,
    text_of,
)
from tests.shop import CAMILLE, line_ref, login, order_ref, user


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def a_request(app) -> int:
    with app.test_request_context():
        return workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="other")).id


def messages(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Message))


def test_post_without_or_with_a_wrong_token_is_refused(app, client_as):
    request_id = a_request(app)
    client = client_as(CAMILLE)
    form = parse(client.get(f"/returns/requests/{request_id}")).by_id("mr-reply")
    url = f"/returns/requests/{request_id}/messages"
    for data in ({"body": "hi"}, {"body": "hi", "csrf_token": "forged"}):
        for headers in ({}, HTMX):
            response = client.post(url, data=data, headers=headers)
            assert response.status_code == 400
            assert "This form has expired or did not come from this site" in text_of(response)
    assert messages(app) == 0
    # A cancellation and an action are refused just the same.
    with app.app_context():
        pending = order_ref("MIR-1001")
    assert client.post(f"/returns/orders/{pending}/cancel", data={"scope": "all", "message": "x"}).status_code == 400
    assert client.post(f"/returns/requests/{request_id}/actions/withdraw",
                       data={"confirm": "1"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Request)) == 1
        assert db.session.get(Request, request_id).status == "requested"
    # The page's own token works, in the form field and in the header.
    assert submit(client, form, body="With the token", files=[]).status_code == 303
    token = form.find("input", name="csrf_token").get("value")
    assert client.post(url, data={"body": "By header"}, headers={"X-CSRFToken": token}).status_code == 303
    assert messages(app) == 2


PLUGIN_REFUSAL = "This form has expired or did not come from this site"
SHOP_REFUSAL = "This request could not be understood"


@dataclass(frozen=True)
class ShopCSRF:
    """How a shop may have set up Flask-WTF, and who checks the plugin's forms then."""

    protect: bool
    check_default: bool = True
    exempt_blueprint: bool = False

    @property
    def shop_checks(self) -> bool:
        return self.protect and self.check_default and not self.exempt_blueprint

    def install(self, shop) -> None:
        if not self.protect:
            return
        csrf = CSRFProtect(shop)
        if self.exempt_blueprint:
            csrf.exempt(shop.blueprints["mirette_returns"])


CONFIGURATIONS = {
    "no CSRFProtect": ShopCSRF(protect=False),
    "CSRFProtect checking every view": ShopCSRF(protect=True),
    "CSRFProtect checking chosen views": ShopCSRF(protect=True, check_default=False),
    "CSRFProtect, plugin exempted": ShopCSRF(protect=True, exempt_blueprint=True),
    "CSRFProtect checking chosen views, plugin exempted": ShopCSRF(protect=True, check_default=False,
                                                                   exempt_blueprint=True),
}


@pytest.mark.parametrize("setup", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_every_csrf_setup_of_a_shop_checks_the_plugins_forms(app_config, app, setup):
    config = {**app_config, "WTF_CSRF_CHECK_DEFAULT": setup.check_default}
    with another_app(config) as shop:
        setup.install(shop)
        request_id = a_request(shop)
        client = in_english(login(shop.test_client(), CAMILLE))
        url = f"/returns/requests/{request_id}/messages"
        for data in ({"body": "no token"}, {"body": "forged", "csrf_token": "forged"}):
            for headers in ({}, HTMX, {"X-CSRFToken": "forged"}):
                refused = client.post(url, data=data, headers=headers)
                assert refused.status_code == 400
                # The shop's error page when the shop checks, the plugin's message otherwise.
                assert (SHOP_REFUSAL if setup.shop_checks else PLUGIN_REFUSAL) in text_of(refused)
        with shop.app_context():
            pending = order_ref("MIR-1001")
        assert client.post(f"/returns/orders/{pending}/cancel",
                           data={"scope": "all", "message": "x"}).status_code == 400
        assert client.post(f"/returns/requests/{request_id}/actions/withdraw",
                           data={"confirm": "1"}).status_code == 400
        assert messages(shop) == 0
        with shop.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Request)) == 1
            assert db.session.get(Request, request_id).status == "requested"
            db.session.remove()
        # The page's token (the shop's, Flask-WTF's) works, in the form and in the header.
        form = parse(client.get(f"/returns/requests/{request_id}")).by_id("mr-reply")
        assert submit(client, form, body="With the token", files=[]).status_code == 303
        token = form.find("input", name="csrf_token").get("value")
        assert client.post(url, data={"body": "By header"}, headers={"X-CSRFToken": token}).status_code == 303
        assert messages(shop) == 2
