"""CSRF on every state-changing route, generated from the app's route table.

The whole module runs once per way a shop may set up Flask-WTF (no
``CSRFProtect``; one checking every view; one checking only chosen views,
``WTF_CSRF_CHECK_DEFAULT = False``; one with the plugin's blueprint exempted):
the plugin's forms are checked in each, by the shop when it checks them, by
the plugin otherwise. Every POST route of the demo app (the plugin's blueprint and the shop's own
forms) must be in :data:`POSTS`; each is posted with no token, a forged one,
another visitor's valid token and a forged header, by someone who could
otherwise make the change. Each is refused (400 with a message) and changes
nothing; the very same post with the page's own token then succeeds, so the
token is what made the difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask_wtf.csrf import CSRFProtect

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import PaymentRefund, db
from mirette_returns_plugin.models import Message, Request
from tests.hardening import BASE_CONFIG, World, account_id, build_world, snapshot, visitor
from tests.pagekit import HTMX, another_app, parse, text_of
from tests.shop import ALEX, BOIS, CAMILLE, LUNE, SUPPORT, artist_ref, user

PLUGIN_REFUSAL = "This form has expired or did not come from this site"
DEMO_REFUSAL = "This form has expired"


@dataclass
class Post:
    """One state-changing form: who posts it, where, and what success leaves."""

    email: str | None
    url: str
    form: dict[str, str]
    refusal: str
    #: Checks, after the post with the right token, that the change happened.
    done: Callable[[Flask, object], None]
    #: Whether the form also honours the ``X-CSRFToken`` header (the plugin's do).
    header: bool = True
    #: What a refused post must leave alone besides the database.
    session_key: str | None = None
    extra: dict = field(default_factory=dict)


#: The shop's error page for a refused token (its CSRFProtect's ``CSRFError``).
SHOP_REFUSAL = "This request could not be understood"

#: ``(CSRFProtect, WTF_CSRF_CHECK_DEFAULT, plugin's blueprint exempted)``.
SETUPS = {
    "no CSRFProtect": (False, True, False),
    "CSRFProtect checking every view": (True, True, False),
    "CSRFProtect checking chosen views": (True, False, False),
    "CSRFProtect, plugin exempted": (True, True, True),
}


@pytest.fixture(scope="module", params=SETUPS.values(), ids=SETUPS.keys())
def setup(request) -> tuple[bool, bool, bool]:
    return request.param


@pytest.fixture(scope="module")
def shop(_schema, database_url, tmp_path_factory, setup) -> Iterator[Flask]:
    protect, check_default, exempt = setup
    config = {**BASE_CONFIG, "WTF_CSRF_ENABLED": True, "WTF_CSRF_CHECK_DEFAULT": check_default,
              "SQLALCHEMY_DATABASE_URI": database_url,
              "MIRETTE_RETURNS_PHOTO_DIR": str(tmp_path_factory.mktemp("photos"))}
    with another_app(config) as app:
        if protect:
            csrf = CSRFProtect(app)
            if exempt:
                csrf.exempt(app.blueprints["mirette_returns"])
        yield app


def refusal(setup: tuple[bool, bool, bool], endpoint: str, own: str) -> str:
    """What a refused post shows: the shop's error page where its CSRFProtect
    checks the route, the form's own message otherwise."""
    protect, check_default, exempt = setup
    plugin = endpoint.startswith("mirette_returns.")
    return SHOP_REFUSAL if protect and check_default and not (plugin and exempt) else own


def _count(app: Flask, model, *where) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
        db.session.remove()
        return found


def _status(app: Flask, request_id: int) -> str:
    with app.app_context():
        found = db.session.get(Request, request_id).status
        db.session.remove()
        return found


def _payment(app: Flask, world: World) -> int:
    """The demo shop's refund of Camille's cancellation, once Lune refused the order."""
    with app.test_request_context():
        if db.session.get(Request, world.cancel).status == "requested":
            workflow.perform(user(LUNE), world.cancel, "refuse_order")
        found = db.session.scalar(sa.select(PaymentRefund.id))
        db.session.remove()
        return found


def posts(app: Flask, world: World, endpoint: str) -> list[Post]:
    """The forms posted to ``endpoint`` (every step, for the action route)."""
    with app.test_request_context():
        def url(name, **values):
            return url_for(name, **values)

        if endpoint == "mirette_returns.submit_return":
            return [Post(CAMILLE, url(endpoint, order_ref=world.order, line_ref=world.line),
                         {"quantity": "1", "kind": "return", "reason_code": "changed_mind", "comment": "csrf"},
                         PLUGIN_REFUSAL,
                         lambda app, r: _expect(r, 303, _count(app, Request, Request.comment == "csrf") == 1))]
        if endpoint == "mirette_returns.request_cancellation":
            return [Post(CAMILLE, url(endpoint, order_ref=world.pending_order),
                         {"artist_ref": artist_ref(BOIS), "message": "csrf"}, PLUGIN_REFUSAL,
                         lambda app, r: _expect(r, 303, _count(app, Request, Request.kind == "cancellation") == 2))]
        if endpoint == "mirette_returns.post_message":
            return [Post(email, url(endpoint, request_id=world.ret), {"body": f"csrf {email}"}, PLUGIN_REFUSAL,
                         lambda app, r, email=email: _expect(
                             r, 303, _count(app, Message, Message.body == f"csrf {email}") == 1))
                    for email in (CAMILLE, LUNE, SUPPORT)]
        if endpoint == "mirette_returns.perform_action":
            found = []
            for transition in workflow.TRANSITIONS:
                email = CAMILLE if "buyer" in transition.roles else LUNE if "artist" in transition.roles else SUPPORT
                found.append(Post(email, url(endpoint, request_id=world.ret, action=transition.action),
                                  {"version": str(world.ret_version), "note": "csrf", "tracking": "LP1",
                                   "confirm": "1"},
                                  PLUGIN_REFUSAL, _step_done(transition.action)))
            return found
        if endpoint == "demo.switch":
            return [Post(None, url(endpoint), {"account_id": str(account_id(app, ALEX))}, DEMO_REFUSAL,
                         lambda app, r: _expect(r, 303, True), header=False, session_key="account_id")]
        if endpoint == "demo.sign_out":
            return [Post(CAMILLE, url(endpoint), {}, DEMO_REFUSAL, lambda app, r: _expect(r, 303, True),
                         header=False, session_key="account_id")]
        if endpoint == "demo.language":
            return [Post(CAMILLE, url(endpoint), {"locale": "fr", "next": "/orders"}, DEMO_REFUSAL,
                         lambda app, r: _expect(r, 303, r.location == "/orders"), header=False, session_key="locale")]
        if endpoint == "demo_payments.paid":
            payment = _payment(app, world)
            return [Post(SUPPORT, url(endpoint, payment_id=payment), {}, DEMO_REFUSAL,
                         lambda app, r: _expect(r, 303, _count(app, PaymentRefund, PaymentRefund.paid.is_(True)) == 1),
                         header=False)]
    raise AssertionError(f"POST route {endpoint} is not in the CSRF table: add it to posts()")


def _expect(response, status: int, effect: bool) -> None:
    assert response.status_code == status, (response.status_code, text_of(response)[:300])
    assert effect, "the post with its token did not do what it should"


def _step_done(action: str):
    def done(app, response):
        # Whatever the step, the token let it through to the workflow: it
        # either happened or was refused by the table, never by CSRF.
        assert PLUGIN_REFUSAL not in text_of(response)
        assert response.status_code in (303, 403, 409, 422), response.status_code
    return done


def post_routes(app: Flask) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())})


#: Every POST endpoint the demo app serves; the test below fails on a new one.
POSTS = [
    "demo.language",
    "demo.sign_out",
    "demo.switch",
    "demo_payments.paid",
    "mirette_returns.perform_action",
    "mirette_returns.post_message",
    "mirette_returns.request_cancellation",
    "mirette_returns.submit_return",
]


def test_every_post_route_is_covered(shop):
    assert post_routes(shop) == POSTS, "a POST route was added or removed: list it in POSTS and posts()"


def token_of(client) -> str:
    """The token a page gives this visitor (Flask-WTF's, bound to the session)."""
    page = parse(client.get("/switch"))
    return page.find("input", name="csrf_token").get("value")


def session_value(client, key: str | None):
    if key is None:
        return None
    with client.session_transaction() as session:
        return session.get(key)


@pytest.mark.parametrize("endpoint", POSTS)
def test_post_without_the_right_token_is_refused_and_changes_nothing(shop, setup, endpoint):
    app = shop
    world = build_world(app)
    foreign_token = token_of(app.test_client())  # valid, but for another visitor's session
    for number in range(len(posts(app, world, endpoint))):
        if number and endpoint != "mirette_returns.perform_action":
            world = build_world(app)  # the previous post, with its token, changed it
        post = posts(app, world, endpoint)[number]
        client = visitor(app, post.email)
        own_token = token_of(client)
        before, kept = snapshot(app), session_value(client, post.session_key)
        attempts: list[tuple[dict, dict]] = [
            ({}, {}),
            ({"csrf_token": "forged"}, {}),
            ({"csrf_token": ""}, {}),
            ({"csrf_token": foreign_token}, {}),
            ({"csrf_token": own_token + "x"}, {}),
            ({}, {"X-CSRFToken": "forged"}),
            ({}, {"X-CSRFToken": foreign_token}),
        ]
        for extra, headers in attempts:
            for htmx in ({}, HTMX):
                response = client.post(post.url, data={**post.form, **extra}, headers={**headers, **htmx})
                assert response.status_code == 400, (endpoint, post.url, extra, headers, response.status_code)
                assert refusal(setup, endpoint, post.refusal) in text_of(response), (endpoint, extra, headers)
        assert snapshot(app) == before, f"a refused post to {post.url} changed the database"
        assert session_value(client, post.session_key) == kept, f"a refused post to {post.url} changed the session"
        # The same post, with the page's token (in the header where the form
        # honours it), goes through: the token is what made the difference.
        if post.header:
            response = client.post(post.url, data=post.form, headers={"X-CSRFToken": own_token})
        else:
            response = client.post(post.url, data={**post.form, "csrf_token": own_token})
        post.done(app, response)


def test_a_step_with_the_token_happens(shop):
    """The positive side of the action route: a withdrawal with the token works."""
    app = shop
    world = build_world(app)
    client = visitor(app, CAMILLE)
    url = f"/returns/requests/{world.ret}/actions/withdraw"
    refused = client.post(url, data={"version": str(world.ret_version), "confirm": "1"})
    assert refused.status_code == 400 and _status(app, world.ret) == "requested"
    done = client.post(url, data={"version": str(world.ret_version), "confirm": "1", "csrf_token": token_of(client)})
    assert done.status_code == 303
    assert _status(app, world.ret) == "withdrawn"
