"""The artist's inbox: filters, unread marks, keyset pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Request
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    insert_requests,
    parse,
)
from tests.shop import ALEX, BOIS, CAMILLE, LUNE, account, artist_ref, line_ref, order_ref, user


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MIRETTE_RETURNS_PAGE_SIZE": 3}


def ids_on(page) -> list[int]:
    return [int(row.get("id").removeprefix("mr-row-")) for row in page.find_all("tr", class_="mr-row")]


def test_inbox_pages_newest_activity_first_without_offset(app, client_as):
    with app.app_context():
        ids = insert_requests(7, artist_ref=artist_ref(LUNE), buyer_ref=str(account(CAMILLE).id))
        insert_requests(2, artist_ref=artist_ref(BOIS), buyer_ref=str(account(CAMILLE).id))
    lune = client_as(LUNE)
    seen = []
    url = "/returns/artist/inbox"
    pages = 0
    while url:
        page = parse(lune.get(url))
        seen.extend(ids_on(page))
        older = page.find("a", rel="next")
        url = older.get("href") if older else None
        pages += 1
        if pages == 2:
            assert page.find("nav", class_="mr-pager").find("a").text == "Newest requests"
    assert seen == list(reversed(ids)) and pages == 3


def test_keyset_is_stable_when_activity_moves_a_request(app, client_as):
    with app.app_context():
        ids = insert_requests(6, artist_ref=artist_ref(LUNE), buyer_ref=str(account(CAMILLE).id))
    lune = client_as(LUNE)
    first = parse(lune.get("/returns/artist/inbox"))
    assert ids_on(first) == ids[:2:-1]
    next_url = first.find("a", rel="next").get("href")
    with app.test_request_context():
        # New activity on the newest one does not shift the second page.
        workflow.post_message(user(CAMILLE), ids[5], "Hello")
    assert ids_on(parse(lune.get(next_url))) == ids[2::-1]


def test_filters_by_status_and_kind_and_marks_unread(app, client_as):
    with app.test_request_context():
        buyer = user(CAMILLE)
        mug = workflow.submit_return(buyer, order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="other"))
        bowl = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Serving bowl"), quantity=1, kind="return", reason_code="other"))
        workflow.perform(user(LUNE), bowl.id, "accept", note="ok")
        [cancel] = workflow.request_cancellation(user(CAMILLE), order_ref("MIR-1001"), None, message="Cancel")
        alex_mug = workflow.submit_return(user(ALEX), order_ref("MIR-2002"), workflow.ReturnForm(
            line_ref=line_ref("MIR-2002", "Speckled mug"), quantity=1, kind="return", reason_code="other"))
        ids = {"mug": mug.id, "bowl": bowl.id, "cancel": cancel.id, "alex": alex_mug.id}
    lune = client_as(LUNE)
    everything = parse(lune.get("/returns/artist/inbox?after="))
    assert len(ids_on(everything)) == 3  # page size
    accepted = parse(lune.get("/returns/artist/inbox?status=accepted"))
    assert ids_on(accepted) == [ids["bowl"]]
    assert accepted.find("select", name="status").find("option", value="accepted").has("selected")
    cancellations = parse(lune.get("/returns/artist/inbox?kind=cancellation"))
    assert ids_on(cancellations) == [ids["cancel"]]
    assert "Their whole part of the order" in cancellations.by_id(f"mr-row-{ids['cancel']}").text
    # Unread until the artist opens it; the artist's own step leaves the bowl read.
    unread = {int(r.get("id")[7:]) for r in parse(lune.get("/returns/artist/inbox?kind=return")).find_all(
        "tr", class_="mr-unread")}
    assert ids["alex"] in unread
    lune.get(f"/returns/requests/{ids['alex']}")
    page = parse(lune.get("/returns/artist/inbox?kind=return"))
    assert "mr-unread" not in page.by_id(f"mr-row-{ids['alex']}").get("class")
    # Unknown filter values are ignored, never an error.
    assert parse(lune.get("/returns/artist/inbox?status=%27;drop&kind=zzz&after=garbage")).find(
        "table") is not None


def test_filter_form_refreshes_only_the_list_with_htmx(app, client_as):
    with app.app_context():
        insert_requests(2, artist_ref=artist_ref(LUNE), buyer_ref=str(account(CAMILLE).id))
    lune = client_as(LUNE)
    form = parse(lune.get("/returns/artist/inbox")).find("form", class_="mr-filters")
    assert form.get("method") == "get" and form.get("hx-target") == "#mr-results"
    response = lune.get("/returns/artist/inbox?status=requested", headers=HTMX)
    html = response.get_data(as_text=True)
    assert "<html" not in html and parse(response).one("section").get("id") == "mr-results"
    assert len(ids_on(parse(response))) == 2


def test_inbox_is_only_for_artists(app, client_as):
    for email in (CAMILLE, None):
        response = client_as(email).get("/returns/artist/inbox")
        assert response.status_code == 403
        assert "This page is for the people who sell in this shop." in parse(response).text


def test_other_artists_requests_are_not_listed(app, client_as):
    with app.app_context():
        insert_requests(2, artist_ref=artist_ref(BOIS), buyer_ref=str(account(CAMILLE).id))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Request)) == 2
    page = parse(client_as(LUNE).get("/returns/artist/inbox"))
    assert ids_on(page) == []
    assert "No request matches" in page.text
