"""The database goes away under the pages: a 503 in the visitor's language
with Retry-After and a form to send again, never a 500; a write committed
before the failure is answered as done.

The app reaches the database through a TCP proxy (tests/tcp_proxy.py) that
the test cuts: the shared database server itself is never stopped.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Message, Request
from tests.conftest import database_kind
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    form_values,
    parse,
)
from tests.shop import CAMILLE, LUNE, line_ref, login, mug_return, order_ref
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(
    database_kind() == "sqlite",
    reason="an outage needs a database reached over the network: SQLite is a file. "
           "Run with MIRETTE_TEST_DATABASE=postgresql or mariadb (make test does).",
)


@pytest.fixture
def proxy(database_url: str):
    url = make_url(database_url)
    running = TcpProxy(url.host or "127.0.0.1", url.port or {"postgresql": 5432}.get(url.get_backend_name(), 3306))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def app_config(app_config: dict, database_url: str, proxy: TcpProxy) -> dict:
    through_proxy = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return {**app_config, "SQLALCHEMY_DATABASE_URI": through_proxy.render_as_string(hide_password=False)}


@pytest.fixture
def request_id(app) -> int:
    return mug_return(app)


def messages(app) -> list[str]:
    """The messages the database holds (on new connections: the cut ones are gone)."""
    with app.app_context():
        db.engine.dispose()
        return list(db.session.scalars(sa.select(Message.body).order_by(Message.id)))


def test_a_page_during_an_outage_is_a_503_in_the_visitors_language(app, client_as, proxy, request_id):
    lune = client_as(LUNE)
    assert lune.get(f"/returns/requests/{request_id}").status_code == 200
    browser_in_french = login(app.test_client(), LUNE)
    proxy.cut()

    english = lune.get(f"/returns/requests/{request_id}")  # English chosen on the page before
    # No language chosen: the account's cannot be read now, the browser's is used.
    french = browser_in_french.get(f"/returns/requests/{request_id}", headers={"Accept-Language": "fr-FR,fr;q=0.9"})

    for response in (english, french):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "10"
        assert "Traceback" not in response.get_data(as_text=True)
    assert "a temporary problem on our side" in parse(english).text
    assert parse(french).one("html").get("lang") == "fr"
    assert "un problème passager de notre côté" in parse(french).text
    assert parse(english).one("a", href=f"/returns/requests/{request_id}").text == "Try again"
    # A poll of the page is told not to swap anything: the next poll tries again.
    news = lune.get(f"/returns/requests/{request_id}/news?after=0", headers=HTMX)
    assert news.status_code == 503 and news.headers["HX-Reswap"] == "none"

    proxy.restore()
    assert lune.get(f"/returns/requests/{request_id}").status_code == 200


def test_a_form_posted_during_an_outage_comes_back_ready_to_send_again(app, client_as, proxy, request_id):
    camille = client_as(CAMILLE)
    reply = parse(camille.get(f"/returns/requests/{request_id}")).by_id("mr-reply")
    proxy.cut()

    refused = camille.post(reply.get("action"), data={**form_values(reply), "body": "Is it <b>there</b>?"})

    assert refused.status_code == 503 and refused.headers["Retry-After"] == "10"
    again = parse(refused).one("form", method="post")
    assert again.get("action") == reply.get("action")
    assert form_values(again)["body"] == "Is it <b>there</b>?"
    assert again.one("button").text.strip() == "Send again"
    proxy.restore()
    assert messages(app) == []

    sent = camille.post(again.get("action"), data=form_values(again))

    assert sent.status_code == 303
    assert messages(app) == ["Is it <b>there</b>?"]


@pytest.fixture
def cut_after_commit(proxy: TcpProxy):
    """The database goes away right after the next commit."""
    done: list[bool] = []

    def cut(session, *args) -> None:
        if not done:
            done.append(True)
            proxy.cut()

    event.listen(Session, "after_commit", cut)
    yield
    event.remove(Session, "after_commit", cut)


# A plain post is answered with a redirect made without reading anything; the
# htmx answer renders the timeline again, which reads the database.
@pytest.mark.parametrize(("headers", "status"), [({}, 303), (HTMX, 200)], ids=["page", "htmx"])
def test_a_message_saved_before_the_outage_is_answered_as_saved(app, client_as, proxy, request_id, headers, status,
                                                                cut_after_commit):
    camille = client_as(CAMILLE)
    reply = parse(camille.get(f"/returns/requests/{request_id}")).by_id("mr-reply")

    answer = camille.post(reply.get("action"), data={**form_values(reply), "body": "Saved, then the lights went out."},
                          headers=headers)

    assert answer.status_code == status
    if status == 200:  # the page after the save could not be read
        assert "Your change was saved." in parse(answer).text
        assert "Retry-After" not in answer.headers
    proxy.restore()
    assert messages(app) == ["Saved, then the lights went out."]


def test_a_request_saved_before_the_outage_is_answered_as_saved(app, client_as, proxy, cut_after_commit):
    camille = client_as(CAMILLE)
    with app.app_context():
        order, mug = order_ref("MIR-1004"), line_ref("MIR-1004", "Speckled mug")
    path = f"/returns/orders/{order}/lines/{mug}/return"

    answer = camille.post(path, data={"quantity": "1", "kind": "return", "reason_code": "changed_mind"})

    # The redirect to the new request needs its id, read again after the commit.
    assert answer.status_code == 200
    assert "Your change was saved." in parse(answer).text
    assert "Retry-After" not in answer.headers
    proxy.restore()
    with app.app_context():
        db.engine.dispose()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Request)) == 1
