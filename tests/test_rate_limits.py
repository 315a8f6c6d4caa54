"""The plugin's endpoints under the shop's Flask-Limiter, its counts in Redis
shared by two app servers; and today's database checks without it.

The limiter's storage is this machine's Redis, on a database of the tests'
own (``MIRETTE_TEST_LIMITER_REDIS``, by default db 6), under a key prefix of
the test's own that leaves with it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Message, Photo, Request
from tests.pagekit import another_app, parse, plain_jpeg, poll_of
from tests.shop import ALEX, CAMILLE, LUNE, line_ref, login, mug_return, order_ref

STORAGE = os.environ.get("MIRETTE_TEST_LIMITER_REDIS", "redis://127.0.0.1:6379/6")


@pytest.fixture
def key_prefix() -> Iterator[str]:
    import redis

    prefix = f"mirette-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    with redis.Redis.from_url(STORAGE) as server:
        left = server.keys(f"*{prefix}*")
        if left:
            server.delete(*left)


@pytest.fixture
def servers(app, app_config: dict, key_prefix: str, request: pytest.FixtureRequest) -> Iterator:
    """``servers(n, **settings)``: n apps over the test's database, each with
    its own Flask-Limiter (set up after the plugin) on the one Redis storage."""
    opened = []

    def start(count: int, *, limiter: bool = True, **settings):
        apps = []
        for _ in range(count):
            manager = another_app({**app_config, **settings})
            shop = manager.__enter__()
            opened.append(manager)
            if limiter:
                Limiter(get_remote_address, app=shop, storage_uri=STORAGE, key_prefix=key_prefix)
            apps.append(shop)
        return apps

    yield start
    for manager in reversed(opened):
        manager.__exit__(None, None, None)


@pytest.fixture
def request_id(app) -> int:
    return mug_return(app)


def as_user(shop, email: str):
    return login(shop.test_client(), email)


def news(client, request_id: int):
    """A quiet poll, as the open details page sends it (its URL and key)."""
    url, headers = poll_of(client, request_id)
    return client.get(url, headers=headers)


def message(client, request_id: int, body: str, photos: int = 0):
    import io

    data = {"body": body, "photos": [(io.BytesIO(plain_jpeg()), f"p{n}.jpg") for n in range(photos)]}
    return client.post(f"/returns/requests/{request_id}/messages", data=data, content_type="multipart/form-data")


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def assert_refused(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    assert "You are doing this too often. Please wait" in parse(response).text


def test_polls_are_counted_across_servers_per_user(app, servers, request_id):
    a, b = servers(2, MIRETTE_RETURNS_LIMIT_POLL="3 per minute")
    lune_a, lune_b = as_user(a, LUNE), as_user(b, LUNE)
    assert [news(lune_a, request_id).status_code, news(lune_a, request_id).status_code,
            news(lune_b, request_id).status_code] == [204, 204, 204]

    refused = news(lune_b, request_id)

    assert_refused(refused)
    assert news(lune_a, request_id).status_code == 429
    # Someone else's count is their own.
    assert news(as_user(b, CAMILLE), request_id).status_code == 204


@pytest.mark.seeded_languages
def test_the_refusal_is_in_the_persons_language(app, servers, request_id):
    [shop] = servers(1, MIRETTE_RETURNS_LIMIT_POLL="1 per minute")
    lune = as_user(shop, LUNE)  # Atelier Lune reads French
    assert news(lune, request_id).status_code == 204

    refused = news(lune, request_id)

    assert refused.status_code == 429
    wait = refused.headers["Retry-After"]
    assert f"Vous faites cela trop souvent. Merci de patienter {wait} seconde" in parse(refused).text


def test_messages_past_the_limit_are_refused_and_not_stored(app, servers, request_id):
    a, b = servers(2, MIRETTE_RETURNS_LIMIT_MESSAGE="2 per minute")
    assert message(as_user(a, CAMILLE), request_id, "One").status_code == 303
    assert message(as_user(b, CAMILLE), request_id, "Two").status_code == 303

    refused = message(as_user(a, CAMILLE), request_id, "Three")

    assert_refused(refused)
    with app.app_context():
        assert db.session.scalars(sa.select(Message.body).order_by(Message.id)).all() == ["One", "Two"]


def test_photos_are_counted_one_by_one_and_a_post_without_any_is_free(app, servers, request_id):
    a, b = servers(2, MIRETTE_RETURNS_LIMIT_PHOTOS="2 per hour")
    assert message(as_user(a, CAMILLE), request_id, "Two photos", photos=2).status_code == 303

    refused = message(as_user(b, CAMILLE), request_id, "One more", photos=1)

    assert_refused(refused)
    assert count(app, Photo) == 2
    assert message(as_user(b, CAMILLE), request_id, "Words only").status_code == 303
    assert count(app, Message) == 2


def test_submitting_counts_returns_and_cancellations_together(app, servers):
    a, b = servers(2, MIRETTE_RETURNS_LIMIT_SUBMIT="1 per hour")
    with app.app_context():
        order, mug, cancel = order_ref("MIR-1004"), line_ref("MIR-1004", "Speckled mug"), order_ref("MIR-2001")
    sent = as_user(a, CAMILLE).post(f"/returns/orders/{order}/lines/{mug}/return",
                                    data={"quantity": "1", "kind": "return", "reason_code": "changed_mind"})
    assert sent.status_code == 303
    # Alex is someone else: his first request goes through on the other server.
    assert as_user(b, ALEX).post(f"/returns/orders/{cancel}/cancel", data={
        "scope": "all", "message": "Sorry", "contact_email": "alex@buyers.example"}).status_code == 303
    before = count(app, Request)
    refused_cancel = as_user(a, CAMILLE).post(f"/returns/orders/{order}/cancel",
                                              data={"scope": "all", "message": "Cancel it"})
    assert_refused(refused_cancel)

    refused = as_user(b, CAMILLE).post(f"/returns/orders/{order}/lines/{mug}/return",
                                       data={"quantity": "1", "kind": "return", "reason_code": "changed_mind"})

    assert_refused(refused)
    assert count(app, Request) == before


def test_without_flask_limiter_the_database_checks_still_apply(app, servers, request_id):
    [shop] = servers(1, limiter=False, MIRETTE_RETURNS_LIMIT_POLL="1 per minute",
                     MIRETTE_RETURNS_LIMIT_MESSAGE="1 per minute", MIRETTE_RETURNS_MESSAGES_PER_MINUTE=2)
    lune = as_user(shop, LUNE)
    assert [news(lune, request_id).status_code for _ in range(4)] == [204] * 4
    camille = as_user(shop, CAMILLE)
    assert [message(camille, request_id, f"Hello {n}").status_code for n in range(2)] == [303, 303]

    third = message(camille, request_id, "Hello 3")

    assert third.status_code != 303
    assert "You are sending messages very fast" in parse(third).text
    assert count(app, Message) == 2
