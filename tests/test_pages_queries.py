"""A page costs the same number of SQL statements whatever the size of what it shows."""

from __future__ import annotations

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from tests.pagekit import (
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    count_statements,
    insert_messages,
    insert_requests,
    parse,
    plain_jpeg,
    poll_of,
)
from tests.shop import CAMILLE, LUNE, SUPPORT, account, artist_ref, line_ref, order_ref, user


def thread_with(app, messages: int, product: str = "Speckled mug") -> int:
    """A request of Camille to Atelier Lune whose thread has ``messages`` messages."""
    with app.test_request_context():
        created = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", product), quantity=1, kind="return", reason_code="damaged",
            photos=[_photo()]))
        workflow.post_message(user(LUNE), created.id, "A photo of the label", photos=[_photo()])
        insert_messages(created.id, messages - 1, author_ref=str(account(CAMILLE).id))
        return created.id


def _photo():
    import io

    from mirette_returns_plugin.state import current_state

    return current_state().photos.prepare(io.BytesIO(plain_jpeg()), "p.jpg")


def statements_for(app, client, url, headers=None) -> int:
    client.get(url, headers=headers or {})  # warm up connections and caches
    with app.app_context():
        engine = db.engine
    with count_statements(engine) as log:
        response = client.get(url, headers=headers or {})
    assert response.status_code in (200, 204)
    return log.count


def test_details_page_costs_the_same_for_1_and_200_messages(app, client_as):
    short = thread_with(app, 1)
    long = thread_with(app, 200, product="Serving bowl")
    lune = client_as(LUNE)
    older = parse(lune.get(f"/returns/requests/{long}")).by_id("mr-timeline-older").one("a").get("href")
    for email in (CAMILLE, LUNE, SUPPORT):
        client = client_as(email)
        counts = {statements_for(app, client, url) for url in
                  (f"/returns/requests/{short}", f"/returns/requests/{long}", older.split("#")[0])}
        assert len(counts) == 1, (email, counts)
    # One page of the timeline: the 50 newest messages and the step among them.
    page = parse(lune.get(f"/returns/requests/{long}"))
    assert len(page.by_id("mr-timeline").find_all("li", class_="mr-item")) == 51


def test_inbox_and_support_list_cost_the_same_for_3_and_60_requests(app, client_as):
    with app.app_context():
        camille = str(account(CAMILLE).id)
        insert_requests(3, artist_ref=artist_ref(LUNE), buyer_ref=camille)
    lune, support = client_as(LUNE), client_as(SUPPORT)
    few = (statements_for(app, lune, "/returns/artist/inbox"),
           statements_for(app, support, "/returns/support/requests"))
    with app.app_context():
        insert_requests(57, artist_ref=artist_ref(LUNE), buyer_ref=camille)
    many = (statements_for(app, lune, "/returns/artist/inbox"),
            statements_for(app, support, "/returns/support/requests"))
    # The signed-in account, then the page's rows.
    assert few == many == (2, 2)
    assert len(parse(lune.get("/returns/artist/inbox")).find_all("tr", class_="mr-row")) == 25


def test_lists_read_only_the_columns_their_rows_show(app, client_as):
    with app.app_context():
        insert_requests(3, artist_ref=artist_ref(LUNE), buyer_ref=str(account(CAMILLE).id))
        engine = db.engine
    for email, url in ((LUNE, "/returns/artist/inbox"), (SUPPORT, "/returns/support/requests")):
        client = client_as(email)
        with count_statements(engine) as log:
            assert len(parse(client.get(url)).find_all("tr", class_="mr-row")) == 3
        [rows] = [statement for statement in log.statements if "FROM mirette_returns_request" in statement]
        assert "mirette_returns_request.version" in rows and "mirette_returns_request.buyer_name" in rows
        for unshown in ("buyer_email", "comment", "policy_text", "refund_total", "instructions", "image_url"):
            assert f"mirette_returns_request.{unshown}" not in rows, unshown


def test_quiet_poll_is_one_query_of_the_plugin(app, client_as):
    request_id = thread_with(app, 1)
    lune = client_as(LUNE)
    url, headers = poll_of(lune, request_id)
    lune.get(url, headers=headers)
    with app.app_context():
        engine = db.engine
    with count_statements(engine) as log:
        response = lune.get(url, headers=headers)
    assert response.status_code == 204
    ours = [s for s in log.statements if "mirette_returns_" in s]
    assert len(ours) == 1 and "WHERE mirette_returns_request.id =" in ours[0]
