"""The "See details" page: timeline, reply box, poll, stale pages, refusals."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import poll_keys, workflow
from mirette_returns_plugin.adapter import RefundResult
from mirette_returns_plugin.demo.adapter import DemoShopAdapter
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.errors import AdapterError
from mirette_returns_plugin.models import Message, Photo, Refund, Request
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    count_statements,
    parse,
    plain_jpeg,
    png_with_text,
    poll_of,
    submit,
    text_of,
)
from tests.shop import ALEX, BOIS, CAMILLE, LUNE, SUPPORT, line_ref, order_ref, user


@pytest.fixture
def request_id(app) -> int:
    """Camille's return of one mug, sent to Atelier Lune."""
    with app.test_request_context():
        created = workflow.submit_return(
            user(CAMILLE), order_ref("MIR-1004"),
            workflow.ReturnForm(line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return",
                                reason_code="changed_mind", comment="Not my style."),
        )
        return created.id


def get(app, request_id) -> Request:
    with app.app_context():
        return db.session.get(Request, request_id)


def test_header_shows_the_request(app, client_as, request_id):
    page = parse(client_as(LUNE).get(f"/returns/requests/{request_id}"))
    facts = page.find("dl", class_="mr-facts").text
    for words in ("MIR-1004", "Return", "Speckled mug", "Night blue", "1 item", "Changed my mind",
                  "Atelier Lune", "Camille Martin"):
        assert words in facts
    # The buyer's address is the support team's to see, not the artist's (by default).
    assert "camille@buyers.example" not in facts
    assert "camille@buyers.example" in parse(client_as(SUPPORT).get(f"/returns/requests/{request_id}")).find(
        "dl", class_="mr-facts").text
    summary = page.by_id("mr-summary")
    assert summary.find(class_="mr-status-line").get("aria-live") == "polite"
    assert page.by_id("mr-timeline").find("ol").get("aria-live") == "polite"
    assert "Total refund" in summary.by_id("mr-refund").text
    assert "14 days after delivery" in page.find("details", class_="mr-policy-box").text
    # The buyer does not see their own email address as a contact.
    assert "camille@buyers.example" not in parse(client_as(CAMILLE).get(f"/returns/requests/{request_id}")).find(
        "dl", class_="mr-facts").text


def test_viewing_marks_the_request_seen_for_that_party(app, client_as, request_id):
    assert get(app, request_id).artist_seen_at is None
    version = get(app, request_id).version
    client_as(LUNE).get(f"/returns/requests/{request_id}")
    seen = get(app, request_id)
    assert seen.artist_seen_at is not None and seen.version == version


def test_a_second_view_writes_nothing_until_something_new_comes(app, client_as, request_id):
    artist = client_as(LUNE)
    artist.get(f"/returns/requests/{request_id}")
    assert get(app, request_id).artist_seen_at == get(app, request_id).last_activity_at
    with app.app_context():
        engine = db.engine
    with count_statements(engine) as log:
        assert artist.get(f"/returns/requests/{request_id}").status_code == 200
    assert [sql for sql in log.statements if sql.lstrip().upper().startswith("UPDATE")] == []
    # A message from the buyer makes the request unread for the artist again,
    # until the artist opens it.
    client_as(CAMILLE).post(f"/returns/requests/{request_id}/messages", data={"body": "Any news?"})
    assert "mr-unread" in artist.get("/returns/artist/inbox").get_data(as_text=True)
    artist.get(f"/returns/requests/{request_id}")
    assert get(app, request_id).artist_seen_at == get(app, request_id).last_activity_at
    assert "mr-unread" not in artist.get("/returns/artist/inbox").get_data(as_text=True)


def test_reply_without_javascript_redirects_back(app, client_as, request_id):
    lune = client_as(LUNE)
    form = parse(lune.get(f"/returns/requests/{request_id}")).by_id("mr-reply")
    assert form.get("enctype") == "multipart/form-data"
    response = submit(lune, form, body="Could you send a photo?", files=[])
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/returns/requests/{request_id}#mr-timeline")
    page = parse(lune.get(response.headers["Location"]))
    assert "Your message was sent." in page.text
    assert "Could you send a photo?" in page.by_id("mr-timeline").text


def test_reply_with_htmx_appends_in_place_with_photos(app, client_as, request_id):
    camille = client_as(CAMILLE)
    form = parse(camille.get(f"/returns/requests/{request_id}")).by_id("mr-reply")
    response = submit(camille, form, headers=HTMX, body="Here it is.", files=[(png_with_text(), "mug.png")])
    assert response.status_code == 200
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]
    fragment = parse(response)
    reply = fragment.find("form", id="mr-reply")
    assert reply is not None and not reply.has("hx-swap-oob")
    assert reply.find("textarea").text == ""  # a fresh box for the next message
    timeline = fragment.find("section", id="mr-timeline")
    assert timeline.get("hx-swap-oob") == "true"
    last = timeline.find_all("li", class_="mr-item")[0]  # newest first
    assert "Here it is." in last.text and "(Buyer)" in last.text
    assert last.find("img").get("src").endswith("?size=thumb")
    assert fragment.find("div", id="mr-poll").get("hx-swap-oob") == "true"
    with app.app_context():
        message = db.session.scalar(sa.select(Message).where(Message.body == "Here it is."))
        assert db.session.scalar(sa.select(Photo.message_id)) == message.id


def test_empty_message_and_bad_photo_are_refused(app, client_as, request_id):
    camille = client_as(CAMILLE)
    form = parse(camille.get(f"/returns/requests/{request_id}")).by_id("mr-reply")
    empty = submit(camille, form, headers=HTMX, body="   ", files=[])
    assert empty.status_code == 422
    page = parse(empty)
    assert "Write a message or attach a photo" in page.by_id("mr-reply-body-error").text
    assert page.find("textarea").get("aria-describedby") == "mr-reply-body-error"
    bad = submit(camille, form, body="see photo", files=[(b"%PDF-1.4 not an image", "scan.jpg")])
    assert bad.status_code == 422
    assert "not a readable image" in parse(bad).by_id("mr-reply-photos-error").text
    assert "see photo" in parse(bad).by_id("mr-reply").find("textarea").text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0


def test_a_quiet_poll_with_its_key_reads_only_the_version(app, client_as, request_id, monkeypatch):
    lune = client_as(LUNE)
    news_url, headers = poll_of(lune, request_id)
    # The key travels in a header, never in the URL (and so never in an access log).
    assert "key" not in news_url and set(headers) == {"HX-Request", poll_keys.HEADER}
    with app.app_context():
        engine = db.engine
    with count_statements(engine) as log:
        assert lune.get(news_url, headers=headers).status_code == 204
    assert len(log.statements) == 1 and "mirette_returns_request" in log.statements[0]
    # Without the key, the viewer is checked as on every page, and the poll gets a new key.
    with count_statements(engine) as log:
        renewed = lune.get(news_url, headers=HTMX)
    assert any("shop_account" in sql for sql in log.statements)
    assert renewed.status_code == 200
    poller = parse(renewed).find("div", id="mr-poll")
    assert poller.get("hx-get") == news_url
    fresh = {**HTMX, **json.loads(poller.get("hx-headers"))}
    with count_statements(engine) as log:
        assert lune.get(news_url, headers=fresh).status_code == 204
    assert len(log.statements) == 1


def test_a_poll_key_works_only_for_its_viewer_and_for_minutes(app, client_as, request_id, monkeypatch):
    lune = client_as(LUNE)
    news_url, headers = poll_of(lune, request_id)
    key = headers[poll_keys.HEADER]
    # Another artist, another buyer and a signed-out visitor holding Lune's key
    # take the full, checked path: 404, never "nothing new".
    for holder in (client_as(BOIS), client_as(ALEX), client_as(None)):
        assert holder.get(news_url, headers=headers).status_code == 404
    # Even one whose own session names a viewer (someone else's).
    alex = client_as(ALEX)
    with alex.session_transaction() as session:
        session[poll_keys.VIEWER_KEY] = "someone"
    assert alex.get(news_url, headers=headers).status_code == 404
    # The buyer of the request, holding the artist's key, is checked as herself (and gets a key of her own).
    camille = client_as(CAMILLE)
    mine = camille.get(news_url, headers=headers)
    assert mine.status_code == 200 and parse(mine).find("div", id="mr-poll") is not None
    # A key for another request, a forged or a crafted one is no key.
    stranger = client_as(BOIS)
    forged = key[:-1] + ("0" if key[-1] != "0" else "1")
    for wrong in (forged, "²²²²²." + "0" * 32, f"{poll_keys._now()}.ü" + "0" * 31, "x" * 65,
                  f"{poll_keys._now() + 10 * poll_keys.LIFETIME_SECONDS}.{key.partition('.')[2]}"):
        assert lune.get(news_url, headers={**HTMX, poll_keys.HEADER: wrong}).status_code == 200
        assert stranger.get(news_url, headers={**HTMX, poll_keys.HEADER: wrong}).status_code == 404
    assert stranger.get(news_url.replace(f"/requests/{request_id}/", f"/requests/{request_id + 1}/"),
                        headers=headers).status_code == 404
    # An expired key takes the full path: the viewer is checked again.
    now = poll_keys._now()
    monkeypatch.setattr(poll_keys, "_now", lambda: now + poll_keys.LIFETIME_SECONDS + 1)
    with app.app_context():
        engine = db.engine
    with count_statements(engine) as log:
        assert lune.get(news_url, headers=headers).status_code == 200
    assert any("shop_account" in sql for sql in log.statements)
    monkeypatch.setattr(poll_keys, "_now", lambda: now)
    # Once something changed, the key gives nothing: the news go to the viewer only.
    with app.test_request_context():
        workflow.post_message(user(CAMILLE), request_id, "Any news?")
    assert stranger.get(news_url, headers=headers).status_code == 404
    assert "Any news?" in lune.get(news_url, headers=headers).get_data(as_text=True)


def test_poll_answers_nothing_new_with_an_empty_204(app, client_as, request_id):
    lune = client_as(LUNE)
    news_url, headers = poll_of(lune, request_id)
    poller = parse(lune.get(f"/returns/requests/{request_id}")).by_id("mr-poll")
    assert poller.get("hx-trigger") == "every 10s"
    quiet = lune.get(news_url, headers=headers)
    assert quiet.status_code == 204 and quiet.get_data() == b""
    assert "HX-Request" in quiet.headers["Vary"]

    # The buyer writes: the artist's next poll brings the new timeline.
    with app.test_request_context():
        workflow.post_message(user(CAMILLE), request_id, "Any news?")
    news = lune.get(news_url, headers=headers)
    assert news.status_code == 200
    fragment = parse(news)
    new_poller = fragment.find("div", id="mr-poll")
    assert new_poller.get("hx-get") != news_url and not new_poller.has("hx-swap-oob")
    assert "Any news?" in fragment.find("section", id="mr-timeline").text
    # The steps on offer did not change: the forms (and what is typed in them) stay.
    assert fragment.find("section", id="mr-actions") is None
    new_headers = {**HTMX, **json.loads(new_poller.get("hx-headers"))}
    assert lune.get(new_poller.get("hx-get"), headers=new_headers).status_code == 204

    # A status change replaces the forms too.
    with app.test_request_context():
        workflow.perform(user(LUNE), request_id, "accept", note="Send it back.")
    changed = parse(lune.get(new_poller.get("hx-get"), headers=new_headers))
    assert "Accepted" in changed.find("section", id="mr-summary").text
    assert changed.find("section", id="mr-actions").find("form", id="mr-action-receive") is not None


def test_stale_page_gets_a_conflict_message_and_keeps_what_was_typed(app, client_as, request_id):
    lune = client_as(LUNE)
    form = parse(lune.get(f"/returns/requests/{request_id}")).by_id("mr-action-accept")
    with app.test_request_context():
        workflow.post_message(user(CAMILLE), request_id, "Hello?")
    for headers in ({}, HTMX):
        response = submit(lune, form, headers=headers, note="Post it to the workshop.")
        assert response.status_code == 409
        page = parse(response)
        actions = page.find("section", id="mr-actions")
        assert "changed since you opened the page" in actions.find(class_="mr-alert").text
        retry = actions.find("form", id="mr-action-accept")
        assert retry.find("textarea").text == "Post it to the workshop."
        assert retry.find("input", name="version").get("value") == str(get(app, request_id).version)
    assert get(app, request_id).status == "requested"
    assert submit(lune, retry, note="Post it to the workshop.").status_code == 303
    assert get(app, request_id).status == "accepted"


def test_actions_not_allowed_are_not_shown_and_refused(app, client_as, request_id):
    camille, lune = client_as(CAMILLE), client_as(LUNE)
    buyer_page = parse(camille.get(f"/returns/requests/{request_id}"))
    assert buyer_page.by_id("mr-action-accept") is None
    version = str(get(app, request_id).version)
    refused = camille.post(f"/returns/requests/{request_id}/actions/accept",
                           data={"version": version, "note": "I accept my own request"})
    assert refused.status_code == 403
    assert "Only the artist or the support team can do this." in text_of(refused)
    assert lune.post(f"/returns/requests/{request_id}/actions/withdraw",
                     data={"version": version, "confirm": "1"}).status_code == 403
    assert lune.post(f"/returns/requests/{request_id}/actions/fly_away",
                     data={"version": version}).status_code == 403
    assert get(app, request_id).status == "requested"
    assert str(get(app, request_id).version) == version


def test_failed_refund_shows_the_error_and_a_retry(app, client_as, request_id, monkeypatch):
    lune = client_as(LUNE)
    with app.test_request_context():
        workflow.perform(user(LUNE), request_id, "accept", note="ok")
        workflow.perform(user(LUNE), request_id, "receive")

    def broken(self, refund):
        raise AdapterError("The payment provider is down.")

    monkeypatch.setattr(DemoShopAdapter, "initiate_refund", broken)
    page = parse(lune.get(f"/returns/requests/{request_id}"))
    response = submit(lune, page.by_id("mr-action-initiate_refund"))
    assert response.status_code == 409
    failed = parse(response)
    assert "The payment provider is down." in failed.find(class_="mr-alert").text
    assert "could not be initiated" in failed.by_id("mr-refund").text
    retry = failed.by_id("mr-action-initiate_refund")
    assert retry is not None
    with app.app_context():
        refund = db.session.scalar(sa.select(Refund).where(Refund.request_id == request_id))
        key = refund.idempotency_key
        assert refund.state == "failed"
    monkeypatch.setattr(DemoShopAdapter, "initiate_refund",
                        lambda self, refund: RefundResult(reference="ok-1", completed=False))
    assert submit(lune, retry).status_code == 303
    with app.app_context():
        refund = db.session.scalar(sa.select(Refund).where(Refund.request_id == request_id))
        assert (refund.state, refund.idempotency_key) == ("initiated", key)
    assert get(app, request_id).status == "refund_initiated"


def test_message_with_photo_only(app, client_as, request_id):
    lune = client_as(LUNE)
    form = parse(lune.get(f"/returns/requests/{request_id}")).by_id("mr-reply")
    assert submit(lune, form, body="", files=[(plain_jpeg(), "label.jpg")]).status_code == 303
    timeline = parse(lune.get(f"/returns/requests/{request_id}")).by_id("mr-timeline")
    assert timeline.find_all("li", class_="mr-item")[0].find("img") is not None


def test_the_read_mark_never_goes_back(app, client_as, request_id):
    # Another tab of the artist read something newer meanwhile (here: a mark
    # later than this page's activity); viewing the older state keeps it.
    from datetime import timedelta

    with app.app_context():
        req = db.session.get(Request, request_id)
        later = req.last_activity_at + timedelta(minutes=5)
        db.session.execute(sa.update(Request).where(Request.id == request_id).values(artist_seen_at=later))
        db.session.commit()
        req = db.session.get(Request, request_id)
        # The page was loaded before the other tab's mark.
        sa.orm.attributes.set_committed_value(req, "artist_seen_at", None)
        workflow.mark_seen(user(LUNE), req)
        db.session.expire_all()
        assert db.session.get(Request, request_id).artist_seen_at == later
