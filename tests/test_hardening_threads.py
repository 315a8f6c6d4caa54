"""Threads have an end: paged newest first, capped, closed after a grace period.

Without limits one account could add thousands of messages (and emails) a
day to a thread, and a 10,000-message thread rendered megabytes on every
view. The timeline now shows one page of messages, newest first, with an
"Older messages" link that htmx fills in place and that works as a plain
link without JavaScript; a thread takes a bounded number of messages, a
person a bounded number per day, and a closed request takes messages only
for a grace period. The support team is held to none of these.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Message, Request, utcnow
from mirette_returns_plugin.state import EXTENSION_KEY
from tests.hardening import snapshot
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    parse,
    text_of,
)
from tests.shop import CAMILLE, LUNE, SUPPORT, account, line_ref, order_ref, user


def _settings(app, **values) -> None:
    app.extensions[EXTENSION_KEY].config.update(values)


def _a_return(app, product: str = "Speckled mug") -> int:
    with app.test_request_context():
        created = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", product), quantity=1, kind="return", reason_code="changed_mind"))
        request_id = created.id
        db.session.remove()
        return request_id


def _thread(app, request_id: int, count: int) -> None:
    """``count`` messages, one a minute after the request was sent, alternately from each side."""
    with app.app_context():
        request = db.session.get(Request, request_id)
        camille, lune = str(account(CAMILLE).id), str(account(LUNE).id)
        db.session.add_all([
            Message(request_id=request_id, author_role="buyer" if n % 2 else "artist",
                    author_ref=camille if n % 2 else lune, author_name="Someone", body=f"Message number {n}",
                    created_at=request.created_at + timedelta(minutes=n))
            for n in range(1, count + 1)
        ])
        db.session.commit()
        db.session.remove()


def _reply(client, request_id: int, body: str):
    return client.post(f"/returns/requests/{request_id}/messages", data={"body": body}, headers=HTMX)


def _bodies(node) -> list[str]:
    return [item.find("p", class_="mr-text").text for item in node.find_all("li", class_="mr-item")
            if item.find("p", class_="mr-text") is not None]


def _links(node) -> list[str]:
    return [link.text.strip() for link in node.find_all("a")]


def _messages_in(app, request_id: int) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.count()).select_from(Message)
                                  .where(Message.request_id == request_id))
        db.session.remove()
        return found


def test_the_timeline_pages_newest_first_with_and_without_javascript(app, client_as):
    request_id = _a_return(app)
    _thread(app, request_id, 120)
    lune = client_as(LUNE)
    page = parse(lune.get(f"/returns/requests/{request_id}"))
    timeline = page.by_id("mr-timeline")
    assert _bodies(timeline) == [f"Message number {n}" for n in range(120, 70, -1)]
    assert "sent the request" not in timeline.text  # the opening step is on the last page
    assert "Newest messages" not in _links(timeline)

    # Without JavaScript: the link is a page of its own, the next 50 older ones.
    link = page.by_id("mr-timeline-older").one("a")
    assert link.text == "Older messages"
    second = parse(lune.get(link.get("href")))
    assert _bodies(second.by_id("mr-timeline")) == [f"Message number {n}" for n in range(70, 20, -1)]
    assert "Newest messages" in _links(second.by_id("mr-timeline"))

    # With htmx: only the older items, the next link among them, in place of the link.
    assert link.get("hx-get") and link.get("hx-target") == "#mr-timeline-older"
    fragment = parse(lune.get(second.by_id("mr-timeline-older").one("a").get("hx-get"), headers=HTMX))
    assert fragment.find("section") is None and fragment.find("html") is None
    assert _bodies(fragment) == [f"Message number {n}" for n in range(20, 0, -1)]
    assert "sent the request" in fragment.text
    assert fragment.by_id("mr-timeline-older") is None, "nothing older than the request"


def test_a_thread_takes_a_bounded_number_of_messages_but_support_may_still_write(app, client_as):
    _settings(app, MESSAGES_PER_THREAD=3)
    request_id = _a_return(app)
    camille, lune = client_as(CAMILLE), client_as(LUNE)
    assert _reply(camille, request_id, "One").status_code == 200
    assert _reply(lune, request_id, "Two").status_code == 200
    assert _reply(camille, request_id, "Three").status_code == 200
    before = snapshot(app)
    for client in (camille, lune):
        response = _reply(client, request_id, "Four")
        assert response.status_code == 403
        assert "This thread has reached its limit of 3 messages" in text_of(response)
    assert snapshot(app) == before
    assert _reply(client_as(SUPPORT), request_id, "From the team").status_code == 200
    assert _messages_in(app, request_id) == 4


def test_a_person_posts_a_bounded_number_of_messages_a_day(app, client_as):
    _settings(app, MESSAGES_PER_DAY=2)
    mug, bowl = _a_return(app), _a_return(app, "Serving bowl")
    camille = client_as(CAMILLE)
    assert _reply(camille, mug, "One").status_code == 200
    assert _reply(camille, bowl, "Two").status_code == 200
    before = snapshot(app)
    response = _reply(camille, mug, "Three")
    assert response.status_code == 403
    assert "You have sent 2 messages in the last 24 hours, the most allowed" in text_of(response)
    assert snapshot(app) == before
    # Another person's count is their own; a day later the buyer writes again.
    assert _reply(client_as(LUNE), mug, "The artist answers").status_code == 200
    with app.app_context():
        db.session.execute(sa.update(Message).where(Message.body.in_(["One", "Two"]))
                           .values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    assert _reply(camille, mug, "Three").status_code == 200


def _close(app, request_id: int, days_ago: float) -> None:
    with app.app_context():
        request = db.session.get(Request, request_id)
        request.status, request.closed_at = "withdrawn", utcnow() - timedelta(days=days_ago)
        db.session.commit()
        db.session.remove()


def test_a_closed_request_takes_messages_for_the_grace_period_only(app, client_as):
    request_id = _a_return(app)
    camille, lune = client_as(CAMILLE), client_as(LUNE)
    _close(app, request_id, 13)
    assert parse(camille.get(f"/returns/requests/{request_id}")).find("form", id="mr-reply") is not None
    assert _reply(camille, request_id, "Thanks for the refund").status_code == 200
    _close(app, request_id, 15)
    before = snapshot(app)
    for client in (camille, lune):
        response = _reply(client, request_id, "One more thing")
        assert response.status_code == 403
        assert ("This request was closed more than 14 days ago: its thread takes no more messages"
                in text_of(response))
    assert snapshot(app) == before
    # The page says so in place of the reply box; support still has the box and writes.
    page = parse(camille.get(f"/returns/requests/{request_id}"))
    assert page.find("form", id="mr-reply") is None
    assert "its thread takes no more messages" in page.by_id("mr-reply").text
    assert parse(client_as(SUPPORT).get(f"/returns/requests/{request_id}")).find("form", id="mr-reply") is not None
    assert _reply(client_as(SUPPORT), request_id, "Closing note from the team").status_code == 200
    # A shop may close threads at once.
    _settings(app, MESSAGES_AFTER_CLOSING_DAYS=0)
    other = _a_return(app, "Serving bowl")
    with app.test_request_context():
        workflow.perform(user(CAMILLE), other, "withdraw")
        db.session.remove()
    response = _reply(camille, other, "Wait")
    assert response.status_code == 403 and "closed more than 0 days ago" in text_of(response)
