"""Two app servers over one database and one object store, as behind a load
balancer: what is made on server A is on server B's pages and polls at once,
and a step taken on A refuses B's stale page with the usual message.

Real HTTP on 127.0.0.1 (two werkzeug servers, each with its own app and its
own connection pool), forms posted with their CSRF tokens, photos in a real
S3 API server. The session cookie is signed with the shop's one secret key,
so a visitor may land on either server.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import requests
from werkzeug.serving import make_server

from tests.conftest import database_kind
from tests.fixtures_s3 import s3_bucket, s3_server  # noqa: F401  (the fixtures)
from tests.pagekit import another_app, form_values, jpeg_with_metadata, parse, plain_jpeg
from tests.shop import CAMILLE, LUNE, line_ref, order_ref

pytestmark = [
    pytest.mark.multiserver,
    pytest.mark.skipif(
        database_kind() == "sqlite",
        reason="several app servers need a server database: SQLite is one file on one machine. "
               "Run with MIRETTE_TEST_DATABASE=postgresql or mariadb (make test does).",
    ),
]

HTMX = {"HX-Request": "true"}
STALE = "This request changed since you opened the page. Look at its new status and try again."


@pytest.fixture
def app_config(app_config: dict, s3_server, s3_bucket: str) -> dict:
    config = {key: value for key, value in app_config.items()
              if key not in ("SERVER_NAME", "MIRETTE_RETURNS_PHOTO_DIR", "WTF_CSRF_ENABLED")}
    config.update(
        SECRET_KEY="one-secret-for-every-server",
        MIRETTE_RETURNS_S3_BUCKET=s3_bucket,
        MIRETTE_RETURNS_S3_ENDPOINT_URL=s3_server.endpoint,
        MIRETTE_RETURNS_S3_REGION="us-east-1",
    )
    return config


@dataclass(frozen=True)
class Server:
    name: str
    url: str


@contextmanager
def serving(config: dict, name: str) -> Iterator[Server]:
    """One app server: its own app (and pool) on a port of its own, threaded."""
    with another_app(config) as app:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name=f"server {name}", daemon=True)
        thread.start()
        try:
            yield Server(name, f"http://127.0.0.1:{server.server_port}")
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)


@pytest.fixture
def servers(app, app_config: dict) -> Iterator[tuple[Server, Server]]:
    """Servers A and B on the seeded database of the test's ``app``."""
    with serving(app_config, "A") as a, serving(app_config, "B") as b:
        yield a, b


class Visitor:
    """One person's browser: one cookie jar, whichever server answers."""

    def __init__(self, email: str, server: Server) -> None:
        self.http = requests.Session()
        page = parse(self.get(server, "/switch").text)
        form = next(f for f in page.find_all("form") if f.find("input", name="account_id") is not None
                    and email in f.text)
        assert self.post(server, form.get("action"), data=form_values(form)).status_code == 200

    def get(self, server: Server, path: str, **options) -> requests.Response:
        return self.http.get(server.url + path, timeout=30, **options)

    def post(self, server: Server, path: str, **options) -> requests.Response:
        return self.http.post(server.url + path, timeout=30, **options)

    def submit(self, server: Server, form, *, photos: list[tuple[bytes, str]] = (), **typed: str):
        """Post ``form`` (read from any server's page) to ``server``, not following the redirect."""
        files = [("photos", (name, data, "image/jpeg")) for data, name in photos] or None
        return self.post(server, form.get("action"), data={**form_values(form), **typed}, files=files,
                         allow_redirects=False)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def visitors(servers) -> Iterator:
    opened: list[Visitor] = []

    def visit(email: str, server: Server) -> Visitor:
        opened.append(Visitor(email, server))
        return opened[-1]

    yield visit
    for visitor in opened:
        visitor.close()


def photo_addresses(page) -> set[str]:
    """The full-size address of each photo shown on ``page``."""
    return {img.get("src").split("?")[0] for img in page.find_all("img")
            if (img.get("src") or "").startswith("/returns/photos/")}


def return_form(visitor: Visitor, server: Server, order: str, line: str):
    """The form of the return page of one order line."""
    path = f"/returns/orders/{order}/lines/{line}/return"
    page = parse(visitor.get(server, path).text)
    return next(form for form in page.find_all("form") if form.get("action") == path)


def test_what_server_a_saves_is_on_server_b_at_once(app, servers, visitors):
    a, b = servers
    camille, lune = visitors(CAMILLE, a), visitors(LUNE, b)
    with app.app_context():
        order, mug = order_ref("MIR-1004"), line_ref("MIR-1004", "Speckled mug")

    # A request with a photo, made on A.
    form = return_form(camille, a, order, mug)
    photo = jpeg_with_metadata(90, 60, orientation=1)
    sent = camille.submit(a, form, photos=[(photo, "mug.jpg")], quantity="1", reason_code="damaged",
                          comment="The handle came off.")
    assert sent.status_code == 303, sent.text[:300]
    detail = sent.headers["Location"]
    request_path = "/returns/requests/" + detail.rsplit("/", 1)[1]

    # On B, the artist's inbox and the details page show it, with its photo.
    inbox = parse(lune.get(b, "/returns/artist/inbox").text)
    assert "MIR-1004" in inbox.text, (detail, inbox.find("main").text[:1500])
    page = parse(lune.get(b, request_path).text)
    assert "The handle came off." in page.by_id("mr-timeline").text
    [full_size] = photo_addresses(page)
    on_b = lune.get(b, full_size)
    assert on_b.status_code == 200 and on_b.headers["Content-Type"] == "image/jpeg"
    assert on_b.content == camille.get(a, full_size).content

    # B's poll, then a message with a photo written on A: B's next poll brings both.
    poller = page.by_id("mr-poll")
    news_url, poll_headers = poller.get("hx-get"), {**HTMX, **json.loads(poller.get("hx-headers") or "{}")}
    assert lune.get(b, news_url, headers=poll_headers).status_code == 204
    reply = parse(camille.get(a, request_path).text).by_id("mr-reply")
    posted = camille.submit(a, reply, photos=[(plain_jpeg(), "label.jpg")], body="Here is the label.")
    assert posted.status_code == 303, posted.text[:300]
    news = lune.get(b, news_url, headers=poll_headers)
    assert news.status_code == 200
    timeline = parse(news.text).find("section", id="mr-timeline")
    assert "Here is the label." in timeline.text
    photo_urls = photo_addresses(timeline)
    assert len(photo_urls) == 2 and full_size in photo_urls  # the request's photo and the new one
    for url in photo_urls:
        assert lune.get(b, url).status_code == 200
        assert camille.get(b, url).status_code == 200


def test_a_step_taken_on_a_refuses_the_stale_page_of_b(app, servers, visitors):
    a, b = servers
    camille, lune = visitors(CAMILLE, a), visitors(LUNE, a)
    with app.app_context():
        order, mug = order_ref("MIR-1004"), line_ref("MIR-1004", "Speckled mug")
    form = return_form(camille, a, order, mug)
    sent = camille.submit(a, form, quantity="1", reason_code="changed_mind")
    assert sent.status_code == 303, sent.text[:300]
    request_path = "/returns/requests/" + sent.headers["Location"].rsplit("/", 1)[1]

    stale = parse(lune.get(b, request_path).text).by_id("mr-action-accept")   # read on B
    fresh = parse(lune.get(a, request_path).text).by_id("mr-action-decline")  # read on A
    assert lune.submit(a, fresh, note="Sorry, not for a change of mind.", confirm="on").status_code == 303

    refused = lune.submit(b, stale, note="Send it back.")

    assert refused.status_code == 409
    actions = parse(refused.text).find("section", id="mr-actions")
    assert STALE in re.sub(r"\s+", " ", actions.find(class_="mr-alert").text)
    summary = parse(camille.get(b, request_path).text).by_id("mr-summary").text
    assert "Declined" in summary and "Accepted" not in summary
