"""Limits: requests and messages per user, the size of a post, the length of a text.

Each limit is configurable, answered with a message a person can read, and
leaves the database as it was. The size of a post is refused from its
headers, before its body is read: the tests count the bytes the app pulls
from the request body, and over real HTTP the server answers before the
client has sent more than a sliver of what it announced.
"""

from __future__ import annotations

import io
import socket

import pytest
import sqlalchemy as sa

from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Message, Request
from mirette_returns_plugin.state import current_state
from tests.hardening import CountingStream, build_world, jpeg, served, session_cookie, snapshot, visitor
from tests.pagekit import HTMX, parse, text_of
from tests.shop import ALEX, CAMILLE, LUNE, SUPPORT, artist_ref, line_ref, order_ref

MAX_PHOTO_BYTES = 64 * 1024
MAX_PHOTOS = 3
#: The plugin's bound on a post: the photos, plus 1 MiB for the fields and framing.
POST_BOUND = MAX_PHOTOS * MAX_PHOTO_BYTES + 1024 * 1024


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MIRETTE_RETURNS_MAX_PHOTO_BYTES": MAX_PHOTO_BYTES, "MIRETTE_RETURNS_MAX_PHOTOS": MAX_PHOTOS,
            "MIRETTE_RETURNS_MESSAGE_MAX_LENGTH": 500}


def limit(app, **values: int) -> None:
    """Set the plugin's rate limits, as ``MIRETTE_RETURNS_<NAME>`` in the shop's config would."""
    with app.app_context():
        current_state().config.update(values)


def count(app, model, *where) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
        db.session.remove()
        return found


def return_url(app, number: str = "MIR-1004", product: str = "Speckled mug") -> str:
    with app.app_context():
        return f"/returns/orders/{order_ref(number)}/lines/{line_ref(number, product)}/return"


RETURN = {"quantity": "1", "kind": "return", "reason_code": "changed_mind"}


# --------------------------------------------------------------------------- #
# Rate limits, per user
# --------------------------------------------------------------------------- #


def test_rate_limits_come_from_the_shop_config(app_config, app):
    from tests.pagekit import another_app

    with another_app({**app_config, "MIRETTE_RETURNS_REQUESTS_PER_HOUR": 7,
                      "MIRETTE_RETURNS_MESSAGES_PER_MINUTE": 9}) as shop, shop.app_context():
        assert current_state().config["REQUESTS_PER_HOUR"] == 7
        assert current_state().config["MESSAGES_PER_MINUTE"] == 9


def test_requests_per_hour_are_limited_per_buyer(app):
    limit(app, REQUESTS_PER_HOUR=2)
    camille = visitor(app, CAMILLE)
    for comment in ("First", "Second"):
        assert camille.post(return_url(app), data={**RETURN, "comment": comment}).status_code == 303
    before = snapshot(app)
    for headers in ({}, HTMX):
        refused = camille.post(return_url(app), data={**RETURN, "comment": "Third"}, headers=headers)
        assert refused.status_code == 403
        assert "You have sent many requests in the last hour. Please wait a little and try again." in text_of(refused)
    # A cancellation is a request too.
    with app.app_context():
        pending, lune = order_ref("MIR-1001"), artist_ref(LUNE)
    refused = camille.post(f"/returns/orders/{pending}/cancel", data={"artist_ref": lune, "message": "Please"})
    assert refused.status_code == 403 and "many requests in the last hour" in text_of(refused)
    assert snapshot(app) == before
    assert count(app, Request, Request.comment == "Third") == 0
    # Alex has his own allowance.
    alex = visitor(app, ALEX)
    assert alex.post(return_url(app, "MIR-2002", "Speckled mug"), data=RETURN).status_code == 303


def test_messages_per_minute_are_limited_per_author(app):
    world = build_world(app, fresh=False)
    limit(app, MESSAGES_PER_MINUTE=4)
    url = f"/returns/requests/{world.ret}/messages"
    camille = visitor(app, CAMILLE)
    # The world holds two messages of Camille's already (one with her cancellation).
    assert count(app, Message, Message.author_role == "buyer") == 2
    for number in (3, 4):
        assert camille.post(url, data={"body": f"Message {number}"}).status_code == 303
    before = snapshot(app)
    for headers in ({}, HTMX):
        refused = camille.post(url, data={"body": "Message 5"}, headers=headers)
        assert refused.status_code == 403
        assert "You are sending messages very fast. Please wait a minute and try again." in text_of(refused)
    assert snapshot(app) == before
    # The artist answers freely.
    assert visitor(app, LUNE).post(url, data={"body": "Artist's answer"}).status_code == 303
    assert count(app, Message, Message.body == "Artist's answer") == 1


def test_zero_means_no_limit(app):
    limit(app, MESSAGES_PER_MINUTE=0)
    world = build_world(app, fresh=False)
    camille = visitor(app, CAMILLE)
    for number in range(6):
        assert camille.post(f"/returns/requests/{world.ret}/messages", data={"body": f"n{number}"}).status_code == 303


# --------------------------------------------------------------------------- #
# The size of a post, before its body is read
# --------------------------------------------------------------------------- #


def too_large_says_so(response) -> None:
    assert response.status_code == 413
    text = text_of(response)
    assert "What you sent is too large." in text and f"at most {MAX_PHOTOS} photos" in text, text[:300]


@pytest.mark.parametrize("target", ["return", "message", "cancel", "action"])
def test_an_announced_large_post_is_refused_before_its_body_is_read(app, target):
    world = build_world(app, fresh=False)
    url = {
        "return": return_url(app),
        "message": f"/returns/requests/{world.ret}/messages",
        "cancel": f"/returns/orders/{world.pending_order}/cancel",
        "action": f"/returns/requests/{world.ret}/actions/withdraw",
    }[target]
    client = visitor(app, CAMILLE)
    before = snapshot(app)
    for headers in ({}, HTMX):
        body = CountingStream(POST_BOUND + 1)
        response = client.post(url, input_stream=body, content_length=POST_BOUND + 1, headers=headers,
                                content_type="multipart/form-data; boundary=x")
        too_large_says_so(response)
        assert body.read_bytes == 0, f"{body.read_bytes} bytes were read before refusing"
    assert snapshot(app) == before
    # Just under the bound, the same post is read and judged on its content.
    allowed = client.post(url, data={"body": "x" * 100, "message": "x", **RETURN})
    assert allowed.status_code != 413


def test_a_large_post_without_length_stops_at_the_bound(app):
    """Chunked: no Content-Length; reading stops (and is refused) at the bound."""
    world = build_world(app, fresh=False)
    client = visitor(app, CAMILLE)
    before = snapshot(app)
    body = CountingStream(POST_BOUND * 4)
    response = client.post(f"/returns/requests/{world.ret}/messages", input_stream=body,
                           content_type="multipart/form-data; boundary=x",
                           environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
    too_large_says_so(response)
    assert body.read_bytes <= POST_BOUND + 64 * 1024, f"{body.read_bytes} bytes read for a bound of {POST_BOUND}"
    assert snapshot(app) == before


def test_many_form_parts_are_refused(app):
    world = build_world(app, fresh=False)
    before = snapshot(app)
    fields = [("body", "hi")] + [(f"f{number}", "x") for number in range(3000)]
    response = visitor(app, CAMILLE).post(f"/returns/requests/{world.ret}/messages", data=dict(fields),
                                          content_type="multipart/form-data")
    assert response.status_code == 413 and "too large" in text_of(response)
    assert snapshot(app) == before


def test_the_server_answers_before_the_client_sent_the_body(app_config, app):
    """Over real HTTP: the client announces 200 MB and sends 64 KiB; the
    answer (413, readable) comes back, and nothing is saved."""
    world = build_world(app, fresh=False)
    before = snapshot(app)
    announced = 200 * 1024 * 1024
    with served(app) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
            cookie = session_cookie(app, CAMILLE, locale="en")
            head = (f"POST /returns/requests/{world.ret}/messages HTTP/1.1\r\nHost: shop.test\r\n"
                    f"Cookie: session={cookie}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                    f"Content-Length: {announced}\r\nConnection: close\r\n\r\n")
            connection.sendall(head.encode() + b"x" * 65536)
            answer = b""
            while b"</html>" not in answer.lower():
                chunk = connection.recv(65536)
                if not chunk:
                    break
                answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 413 " in status_line, status_line
    assert b"What you sent is too large." in rest
    assert snapshot(app) == before


def test_too_many_or_too_big_photos_are_refused_with_a_message(app):
    world = build_world(app, fresh=False)
    client = visitor(app, CAMILLE)
    url = f"/returns/requests/{world.ret}/messages"
    before = snapshot(app)
    photos = [(io.BytesIO(jpeg()), f"p{n}.jpg") for n in range(MAX_PHOTOS + 1)]
    response = client.post(url, data={"body": "Photos", "photos": photos}, content_type="multipart/form-data")
    assert response.status_code == 422 and f"Attach at most {MAX_PHOTOS} photos." in text_of(response)
    big = io.BytesIO(b"\xff\xd8" + b"\x00" * (MAX_PHOTO_BYTES + 10))
    response = client.post(url, data={"body": "Big", "photos": [(big, "big.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 422 and "big.jpg" in text_of(response)
    assert snapshot(app) == before


# --------------------------------------------------------------------------- #
# Lengths of texts
# --------------------------------------------------------------------------- #


def test_text_lengths_are_limited_with_a_message(app):
    world = build_world(app, fresh=False)
    camille = visitor(app, CAMILLE)
    page = parse(camille.get(f"/returns/requests/{world.ret}"))
    assert page.find("textarea", name="body").get("maxlength") == "500", "the browser stops at the limit too"
    before = snapshot(app)
    cases = [
        (f"/returns/requests/{world.ret}/messages", {"body": "é" * 501}, "Keep the message under 500 characters."),
        (return_url(app), {**RETURN, "comment": "x" * 501}, "Keep the comment under 500 characters."),
        (f"/returns/orders/{world.pending_order}/cancel", {"scope": "all", "message": "x" * 501},
         "Keep the message under 500 characters."),
    ]
    for url, form, message in cases:
        for headers in ({}, HTMX):
            response = camille.post(url, data=form, headers=headers)
            assert response.status_code == 422, (url, response.status_code)
            assert message in text_of(response), url
    lune = visitor(app, LUNE)
    action = f"/returns/requests/{world.ret}/actions/accept"
    response = lune.post(action, data={"version": str(world.ret_version), "note": "n" * 501})
    assert response.status_code == 422 and "Keep this under 500 characters." in text_of(response)
    assert snapshot(app) == before
    # Exactly at the limit is fine.
    assert camille.post(f"/returns/requests/{world.ret}/messages", data={"body": "é" * 500}).status_code == 303
    assert count(app, Message, Message.body == "é" * 500) == 1


def test_a_nul_character_is_refused_with_a_message(app):
    """PostgreSQL cannot store it: refused up front on every database alike."""
    world = build_world(app, fresh=False)
    camille = visitor(app, CAMILLE)
    before = snapshot(app)
    for url, form in ((f"/returns/requests/{world.ret}/messages", {"body": "Hello\x00"}),
                      (return_url(app), {**RETURN, "comment": "a\x00b"})):
        response = camille.post(url, data=form)
        assert response.status_code == 400
        assert "invisible control character (NUL)" in text_of(response)
    assert camille.get("/returns/artist/inbox?status=%00").status_code == 400
    assert snapshot(app) == before


def test_ids_beyond_the_database_are_plain_404s(app):
    camille = visitor(app, CAMILLE)
    for path in ("/returns/requests/2147483648", "/returns/requests/99999999999999999999/news",
                 "/returns/photos/9223372036854775808", "/orders/99999999999999999999"):
        response = camille.get(path)
        assert response.status_code == 404, path
        assert text_of(response)
    response = visitor(app, SUPPORT).get("/mailbox/2147483648")
    assert response.status_code == 404 and text_of(response)
    before = snapshot(app)
    for path in ("/returns/requests/2147483648", "/returns/photos/9223372036854775808"):
        assert "This page does not exist, or you may not see it." in text_of(camille.get(path)), path
    response = camille.post("/returns/requests/2147483648/messages", data={"body": "x"})
    assert response.status_code == 404 and "does not exist" in text_of(response)
    assert snapshot(app) == before
