"""The quiet poll answered before Flask sets up a request (poll_shortcut.py).

A quiet poll with its key, in the session the key was given to, gets the
view's 204 without Flask opening the session or running the shop's
``before_request`` hooks; everything else goes through Flask and gets the
answer it always got.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

import itsdangerous
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from mirette_returns_plugin import poll_keys, poll_shortcut, workflow
from mirette_returns_plugin.demo.models import db
from tests.pagekit import HTMX, another_app, count_statements, in_english, parse, poll_of
from tests.shop import BOIS, CAMILLE, LUNE, login, mug_return, user

#: Headers the demo shop's own ``after_request`` adds to every answer.
SHOP_HEADERS = {"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"}


@dataclass
class Seen:
    """What Flask did for a shop: its ``before_request`` hook run, its session opened."""

    hooks: int = 0
    sessions: int = 0


class CountingSessions(SecureCookieSessionInterface):
    """Flask's signed cookies, counted: a session interface of the shop's own."""

    def __init__(self, seen: Seen) -> None:
        self.seen = seen

    def open_session(self, app, request):  # noqa: ANN001, ANN201
        self.seen.sessions += 1
        return super().open_session(app, request)


def watch(shop: Flask) -> Seen:
    """Count the shop's ``before_request`` hook and its session openings
    (before the shop's first request)."""
    seen = Seen()

    def count_hook() -> None:
        seen.hooks += 1

    shop.before_request(count_hook)
    # Flask's own interface, on this app alone, its opening counted.
    interface = SecureCookieSessionInterface()
    flask_open = interface.open_session

    def counting_open(app, request):  # noqa: ANN001, ANN202
        seen.sessions += 1
        return flask_open(app, request)

    interface.open_session = counting_open
    shop.session_interface = interface
    return seen


@pytest.fixture
def request_id(app) -> int:
    return mug_return(app)


@pytest.fixture
def shop_with(app, app_config: dict) -> Iterator:
    """``shop_with(**settings)``: another demo app on the test's database, watched."""
    opened = []

    def start(**settings) -> tuple[Flask, Seen]:
        manager = another_app({**app_config, **settings})
        shop = manager.__enter__()
        opened.append(manager)
        return shop, watch(shop)

    yield start
    for manager in reversed(opened):
        manager.__exit__(None, None, None)


def as_user(shop: Flask, email: str):
    return in_english(login(shop.test_client(), email))


def engine_of(shop: Flask) -> sa.Engine:
    with shop.app_context():
        return db.engine


def test_a_quiet_poll_is_answered_before_flask(app, request_id):
    seen = watch(app)
    lune = as_user(app, LUNE)
    url, headers = poll_of(lune, request_id)
    before = replace(seen)
    with count_statements(engine_of(app)) as log:
        quiet = lune.get(url, headers=headers)
    assert quiet.status_code == 204 and quiet.get_data() == b""
    # No session opened, no hook run: one read of the version, nothing else.
    assert seen == before
    assert len(log.statements) == 1 and "mirette_returns_request" in log.statements[0]
    # The same headers as the view's 204 through Flask (a parameter the
    # poller never sends takes that path), but for the shop's own hook's.
    through_flask = lune.get(f"{url}&extra=1", headers=headers)
    assert through_flask.status_code == 204 and seen.hooks == before.hooks + 1
    assert dict(quiet.headers) == {name: value for name, value in through_flask.headers.items()
                                   if name not in SHOP_HEADERS}
    assert "HX-Request" in quiet.headers["Vary"] and "Cookie" in quiet.headers["Vary"]
    assert quiet.headers["Cache-Control"] == "no-store"


def test_everything_else_goes_through_flask_with_todays_answers(app, request_id, monkeypatch):
    seen = watch(app)
    lune = as_user(app, LUNE)
    url, headers = poll_of(lune, request_id)
    path, _, query = url.partition("?")
    after = dict(part.split("=") for part in query.split("&"))["after"]

    def through_flask(send) -> int:  # noqa: ANN001
        hooks = seen.hooks
        status = send().status_code
        assert seen.hooks == hooks + 1, "the shortcut answered"
        return status

    # A missing or empty ``after``: the news (the viewer is checked).
    assert through_flask(lambda: lune.get(f"{path}?actions=accept", headers=headers)) == 200
    assert through_flask(lambda: lune.get(f"{path}?after=&actions=accept", headers=headers)) == 200
    # Another method, another page, another id (unknown, or spelled with a leading zero).
    assert through_flask(lambda: lune.post(url, headers=headers)) == 405
    assert through_flask(lambda: lune.get(f"/returns/requests/{request_id}", headers=headers)) == 200
    assert through_flask(lambda: lune.get(url.replace(f"/{request_id}/", f"/{request_id + 1}/"),
                                          headers=headers)) == 404
    assert through_flask(lambda: lune.get(url.replace(f"/{request_id}/", f"/0{request_id}/"),
                                          headers=headers)) == 204
    # A query Flask refuses (a NUL character) is still refused.
    assert through_flask(lambda: lune.get(f"{url}%00", headers=headers)) == 400
    # A wrong key: the viewer is checked, and gets a new poller; a stranger gets 404.
    forged = {**headers, poll_keys.HEADER: headers[poll_keys.HEADER][:-1] + "x"}
    assert through_flask(lambda: lune.get(url, headers=forged)) == 200
    # The key in another session: another artist's (404), or Lune's own new one (checked: a new poller).
    bois = as_user(app, BOIS)
    assert through_flask(lambda: bois.get(url, headers=headers)) == 404
    other_lune = as_user(app, LUNE)
    renewed = other_lune.get(url, headers=headers)
    assert renewed.status_code == 200 and parse(renewed).find("div", id="mr-poll") is not None
    # An expired key: checked, and renewed.
    now = poll_keys._now()
    monkeypatch.setattr(poll_keys, "_now", lambda: now + poll_keys.LIFETIME_SECONDS + 1)
    assert through_flask(lambda: lune.get(url, headers=headers)) == 200
    monkeypatch.setattr(poll_keys, "_now", lambda: now)
    # Something changed: the news, through Flask.
    with app.test_request_context():
        workflow.post_message(user(CAMILLE), request_id, "Any news?")
    hooks = seen.hooks
    news = lune.get(url, headers=headers)
    assert seen.hooks == hooks + 1 and news.status_code == 200 and "Any news?" in news.get_data(as_text=True)
    assert after not in parse(news).find("div", id="mr-poll").get("hx-get")


def test_a_session_cookie_older_than_flask_accepts_goes_through_flask(shop_with, request_id, monkeypatch):
    shop, seen = shop_with(PERMANENT_SESSION_LIFETIME=timedelta(minutes=10))
    lune = as_user(shop, LUNE)
    url, headers = poll_of(lune, request_id)
    assert lune.get(url, headers=headers).status_code == 204
    hooks = seen.hooks
    # Eleven minutes later for the session cookie (the key itself still holds).
    later = int(time.time()) + 11 * 60
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: later)
    assert lune.get(url, headers=headers).status_code == 404
    assert seen.hooks == hooks + 1


def test_sessions_of_the_shops_own_go_through_flask(shop_with, request_id):
    shop, seen = shop_with()
    # A session interface other than Flask's own (server-side sessions are
    # one): the shortcut cannot read it, the view's own quick answer stays.
    shop.session_interface = CountingSessions(seen)
    lune = as_user(shop, LUNE)
    url, headers = poll_of(lune, request_id)
    hooks, sessions = seen.hooks, seen.sessions
    with count_statements(engine_of(shop)) as log:
        assert lune.get(url, headers=headers).status_code == 204
    assert seen.hooks == hooks + 1 and seen.sessions == sessions + 1
    assert len(log.statements) == 1


def test_the_setting_off_sends_every_poll_through_flask(shop_with, request_id):
    shop, seen = shop_with(MIRETTE_RETURNS_POLL_BEFORE_FLASK=False)
    lune = as_user(shop, LUNE)
    url, headers = poll_of(lune, request_id)
    hooks = seen.hooks
    assert lune.get(url, headers=headers).status_code == 204
    assert seen.hooks == hooks + 1


def test_the_url_prefix_and_the_script_name_are_honoured(shop_with, request_id):
    shop, seen = shop_with(MIRETTE_RETURNS_URL_PREFIX="/aftercare")
    lune = as_user(shop, LUNE)
    poller = parse(lune.get(f"/aftercare/requests/{request_id}")).by_id("mr-poll")
    url, headers = poller.get("hx-get"), {**HTMX, **json.loads(poller.get("hx-headers"))}
    assert url.startswith("/aftercare/requests/")
    before = replace(seen)
    assert lune.get(url, headers=headers).status_code == 204
    # Mounted under a sub-path (SCRIPT_NAME /shop): the same answer, before Flask.
    assert lune.get(url, headers=headers, base_url="http://shop.test/shop/").status_code == 204
    assert seen == before
    # The old prefix is no poll; neither is the prefix given as SCRIPT_NAME.
    assert lune.get(url.replace("/aftercare/", "/returns/"), headers=headers).status_code == 404
    assert lune.get(url.removeprefix("/aftercare"), headers=headers,
                    base_url="http://shop.test/aftercare/").status_code == 404
    assert seen.hooks == before.hooks + 2


# Werkzeug 3.0.0 (the floor) warns of a host that is not SERVER_NAME; later releases do not.
@pytest.mark.filterwarnings("ignore:Current server name:UserWarning")
def test_an_untrusted_host_goes_through_flask(shop_with, request_id):
    shop, seen = shop_with(TRUSTED_HOSTS=["shop.test"])
    # Flask's answer to an untrusted host, in a page that needs no URL of the shop.
    shop.register_error_handler(400, lambda error: ("Bad request", 400))
    lune = as_user(shop, LUNE)
    url, headers = poll_of(lune, request_id)
    assert lune.get(url, headers=headers).status_code == 204
    cookie = lune.get_cookie("session", domain="shop.test")
    assert cookie is not None
    sessions = seen.sessions
    elsewhere = shop.test_client(use_cookies=False).get(url, base_url="http://elsewhere.test/",
                                       headers={**headers, "Cookie": f"session={cookie.value}"})
    # Flask 3.1 and later refuse the host (400); Flask 3.0, the floor, has no
    # TRUSTED_HOSTS and finds no page on a host other than SERVER_NAME (404).
    # Either way Flask answered, with the session opened: never the shortcut's 204.
    assert elsewhere.status_code in (400, 404) and seen.sessions == sessions + 1


def test_a_database_error_goes_through_flask(app, request_id):
    seen = watch(app)
    lune = as_user(app, LUNE)
    url, headers = poll_of(lune, request_id)
    engine = engine_of(app)
    failures = {"left": 1}

    def fail(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if "mirette_returns_request" in statement and failures["left"]:
            failures["left"] -= 1
            raise sa.exc.OperationalError(statement, parameters, Exception("the database went away"))

    sa.event.listen(engine, "before_cursor_execute", fail)
    try:
        # The shortcut's read fails; Flask reads again and answers.
        hooks = seen.hooks
        assert lune.get(url, headers=headers).status_code == 204
        assert seen.hooks == hooks + 1 and failures["left"] == 0
        # Both reads fail: Flask reports it as on every page (a 503 the poller does not swap).
        failures["left"] = 2
        down = lune.get(url, headers=headers)
        assert down.status_code == 503 and down.headers["HX-Reswap"] == "none"
        assert seen.hooks == hooks + 2
    finally:
        sa.event.remove(engine, "before_cursor_execute", fail)


def test_flask_limiter_still_counts_polls(shop_with, request_id):
    shop, seen = shop_with(MIRETTE_RETURNS_LIMIT_POLL="2 per minute")
    Limiter(get_remote_address, app=shop, storage_uri="memory://")
    lune = as_user(shop, LUNE)
    url, headers = poll_of(lune, request_id)
    hooks = seen.hooks
    answers = [lune.get(url, headers=headers).status_code for _ in range(3)]
    assert answers == [204, 204, 429] and seen.hooks == hooks + 3


def test_flask_limiter_without_a_poll_limit_leaves_the_shortcut(shop_with, request_id):
    shop, seen = shop_with(MIRETTE_RETURNS_LIMIT_POLL=None)
    Limiter(get_remote_address, app=shop, storage_uri="memory://")
    lune = as_user(shop, LUNE)
    url, headers = poll_of(lune, request_id)
    hooks = seen.hooks
    assert [lune.get(url, headers=headers).status_code for _ in range(3)] == [204] * 3
    assert seen.hooks == hooks
    # A limiter whose default limits apply to every endpoint counts polls too.
    limited, limited_seen = shop_with(MIRETTE_RETURNS_LIMIT_POLL=None)
    Limiter(get_remote_address, app=limited, storage_uri="memory://", default_limits=["1000 per minute"])
    lune = as_user(limited, LUNE)
    url, headers = poll_of(lune, request_id)
    hooks = limited_seen.hooks
    assert lune.get(url, headers=headers).status_code == 204 and limited_seen.hooks == hooks + 1


def test_the_shortcut_goes_inside_proxy_fix_and_never_outside_another_middleware():
    plain = Flask("plain")
    plain.wsgi_app = ProxyFix(plain.wsgi_app)
    poll_shortcut.install(plain, {"POLL_BEFORE_FLASK": True})
    assert isinstance(plain.wsgi_app, ProxyFix) and isinstance(plain.wsgi_app.app, poll_shortcut.PollShortcut)

    # A middleware of the shop's (an access check, say) stays in front of every request.
    wrapped = Flask("wrapped")
    flask_own = wrapped.wsgi_app

    def shops_middleware(environ, start_response):  # noqa: ANN001, ANN202
        return flask_own(environ, start_response)

    wrapped.wsgi_app = shops_middleware
    poll_shortcut.install(wrapped, {"POLL_BEFORE_FLASK": True})
    assert wrapped.wsgi_app is shops_middleware
