"""'Ask every artist to cancel' posted from a stale page still gets a visible answer."""

from __future__ import annotations

import sqlalchemy as sa

from mirette_returns_plugin.models import Request
from tests.pagekit import client_as, parse  # noqa: F401  (client_as: English pages)
from tests.shop import CAMILLE, db, order_ref


def _post_to_everyone(client, order: str, message: str):
    return client.post(f"/returns/orders/{order}/cancel",
                       data={"scope": "all", "message": message, "contact_email": CAMILLE})


def test_with_one_cancellable_part_the_message_shows_on_that_part(app, client_as):
    client = client_as(CAMILLE)
    with app.app_context():
        order = order_ref("MIR-1001")  # one artist, not processed yet

    response = _post_to_everyone(client, order, "")

    assert response.status_code == 422
    alert = parse(response).by_id("mr-part-" + _artist_of(app, order)).text
    assert "Say why you would like to cancel." in alert
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Request)) == 0


def test_with_nothing_left_to_cancel_the_page_says_so(app, client_as):
    client = client_as(CAMILLE)
    with app.app_context():
        order = order_ref("MIR-1004")  # every part delivered

    response = _post_to_everyone(client, order, "Please cancel")

    assert response.status_code == 422
    alerts = [node.text for node in parse(response).find_all(role="alert")]
    assert any("No part of this order can still be cancelled." in text for text in alerts)


def _artist_of(app, order: str) -> str:
    from mirette_returns_plugin.demo.adapter import DemoShopAdapter

    with app.test_request_context():
        return DemoShopAdapter().get_order(order).parts[0].artist_ref
