"""CSRF: the plugin checks Flask-WTF's token itself, or leaves it to the shop's CSRFProtect."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_wtf.csrf import CSRFProtect

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Message, Request
from tests.pagekit import HTMX, another_app, in_english, parse, submit, text_of
from tests.pagekit import client_as  # noqa: F401  (the shared fixture, its pages in English)
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


def test_a_shop_with_csrfprotect_keeps_working(app_config, app):
    with another_app(app_config) as shop:
        CSRFProtect(shop)
        protected_by_the_shop(shop)


def protected_by_the_shop(shop):
    request_id = a_request(shop)
    client = in_english(login(shop.test_client(), CAMILLE))
    refused = client.post(f"/returns/requests/{request_id}/messages", data={"body": "no token"})
    assert refused.status_code == 400
    assert messages(shop) == 0
    form = parse(client.get(f"/returns/requests/{request_id}")).by_id("mr-reply")
    assert submit(client, form, body="With the shop's token", files=[]).status_code == 303
    assert messages(shop) == 1
