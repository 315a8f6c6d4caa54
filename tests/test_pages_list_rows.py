"""The lists' rows are drawn once per version of their request and kept
(views/list_rows.py): what the lists show stays what they showed drawing
every row, a change shows at once, and the list's query alone decides who
sees which rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from jinja2 import ChoiceLoader, DictLoader

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import RequestArtist
from mirette_returns_plugin.state import current_state
from tests.pagekit import (
    HTMX,
    another_app,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    in_english,
    insert_requests,
    parse,
)
from tests.shop import BOIS, CAMILLE, LUNE, SUPPORT, account, artist_ref, line_ref, login, order_ref, user

#: Every list, with each of its filters.
INBOX_URLS = ["/returns/artist/inbox", "/returns/artist/inbox?status=requested",
              "/returns/artist/inbox?status=accepted", "/returns/artist/inbox?kind=return",
              "/returns/artist/inbox?kind=cancellation"]
SUPPORT_URLS = ["/returns/support/requests", "/returns/support/requests?status=requested",
                "/returns/support/requests?kind=exchange", "/returns/support/requests?escalated=1",
                "/returns/support/requests?artist=lune", "/returns/support/requests?artist=bois&kind=return"]


def ids_on(page) -> list[int]:
    return [int(row.get("id").removeprefix("mr-row-")) for row in page.find_all("tr", class_="mr-row")]


def row_of(client, url: str, request_id: int):
    return parse(client.get(url, headers=HTMX)).by_id(f"mr-row-{request_id}")


def fill_lists(app) -> None:
    """Rows of every kind, status, mark and name the lists show, for two artists."""
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    with app.app_context():
        camille = str(account(CAMILLE).id)
        for index in range(12):
            columns = dict(kind=("return", "exchange", "cancellation")[index % 3],
                           status=("requested", "accepted", "received", "refunded")[index % 4],
                           escalated=index % 5 == 0, quantity=1 + index % 3,
                           variant="Blue & <green>" if index % 2 else None)
            if columns["kind"] == "cancellation":
                columns["product_name"] = None
            if index % 4 == 1:
                columns["artist_seen_at"] = start + timedelta(days=1)
            insert_requests(1, artist_ref=artist_ref(LUNE), buyer_ref=camille, start=start + timedelta(hours=index),
                            **columns)
        insert_requests(4, artist_ref=artist_ref(BOIS), buyer_ref=camille, artist_name="Bois & Fil",
                        start=start + timedelta(minutes=30))
        db.session.add_all([RequestArtist(ref=artist_ref(LUNE), name="Atelier Lune", name_key="atelier lune"),
                            RequestArtist(ref=artist_ref(BOIS), name="Bois & Fil", name_key="bois & fil")])
        db.session.commit()


@pytest.mark.parametrize("urls, who", [(INBOX_URLS, LUNE), (SUPPORT_URLS, SUPPORT)])
def test_kept_rows_are_the_rows_drawn_afresh(app, app_config, client_as, urls, who):
    fill_lists(app)
    with another_app({**app_config, "MIRETTE_RETURNS_FRAGMENT_CACHE_BYTES": 0}) as uncached:
        afresh = {url: in_english(login(uncached.test_client(), who)).get(url, headers=HTMX).get_data()
                  for url in urls}
        with uncached.app_context():
            assert len(current_state().fragments) == 0
    client = client_as(who)
    for url in urls:
        first = client.get(url, headers=HTMX).get_data()
        with app.app_context():
            kept = len(current_state().fragments)
        second = client.get(url, headers=HTMX).get_data()
        with app.app_context():
            # The second page drew no row: every one was kept.
            assert len(current_state().fragments) == kept
        assert first == second == afresh[url], url
    with app.app_context():
        assert len(current_state().fragments) > 12


def test_step_message_and_reading_show_at_once(app, client_as):
    with app.test_request_context():
        mug = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="other")).id
    lune, support = client_as(LUNE), client_as(SUPPORT)
    inbox, everything = "/returns/artist/inbox", "/returns/support/requests"
    row = row_of(lune, inbox, mug)
    assert "mr-unread" in row.get("class") and "Requested" in row.text
    assert "Requested" in row_of(support, everything, mug).text

    # Reading it (a plain UPDATE of the "seen" mark, the version stays): the mark goes.
    assert lune.get(f"/returns/requests/{mug}").status_code == 200
    row = row_of(lune, inbox, mug)
    assert "mr-unread" not in row.get("class") and not row.find("span", class_="mr-badge-unread")

    # A step: the new status, on both lists.
    with app.test_request_context():
        workflow.perform(user(LUNE), mug, "accept", note="Send it back")
    assert "Accepted" in row_of(lune, inbox, mug).text
    assert "Accepted" in row_of(support, everything, mug).text

    # A message from the buyer: new activity, unread again for the artist.
    with app.test_request_context():
        workflow.post_message(user(CAMILLE), mug, "It is in the post")
    row = row_of(lune, inbox, mug)
    assert "mr-unread" in row.get("class") and row.find("span", class_="mr-badge-unread").text == "New"

    # Asking support: the badge shows on both lists.
    with app.test_request_context():
        workflow.perform(user(CAMILLE), mug, "escalate", note="No answer")
    assert row_of(lune, inbox, mug).find("span", class_="mr-badge-escalated")
    assert row_of(support, "/returns/support/requests?escalated=1", mug).find("span", class_="mr-badge-escalated")


def test_kept_rows_never_show_another_artists_requests(app, client_as):
    with app.app_context():
        camille = str(account(CAMILLE).id)
        lune_ids = insert_requests(3, artist_ref=artist_ref(LUNE), buyer_ref=camille)
        bois_ids = insert_requests(3, artist_ref=artist_ref(BOIS), buyer_ref=camille, artist_name="Bois & Fil")
    # Every row drawn and kept, with the artist column and without.
    assert set(bois_ids) <= set(ids_on(parse(client_as(SUPPORT).get("/returns/support/requests"))))
    assert ids_on(parse(client_as(BOIS).get("/returns/artist/inbox"))) == bois_ids[::-1]
    with app.app_context():
        assert len(current_state().fragments) >= 9
    assert ids_on(parse(client_as(LUNE).get("/returns/artist/inbox"))) == lune_ids[::-1]
    # A buyer has no inbox, kept rows or not.
    refused = client_as(CAMILLE).get("/returns/artist/inbox")
    assert refused.status_code == 403
    assert not parse(refused).find_all("tr", class_="mr-row")


def test_a_shops_own_row_template_draws_the_rows(app, client_as):
    with app.app_context():
        ids = insert_requests(2, artist_ref=artist_ref(LUNE), buyer_ref=str(account(CAMILLE).id))
    app.jinja_env.loader = ChoiceLoader([
        DictLoader({"mirette_returns/_request_row.html":
                    '<tr class="mr-row shop-row" id="mr-row-{{ row.id }}"><td>{{ row.order_number }}</td>'
                    '<td>{{ words.status_of(row.status, row.kind) }}</td></tr>'}),
        app.jinja_env.loader,
    ])
    rows = parse(client_as(LUNE).get("/returns/artist/inbox")).find_all("tr", class_="shop-row")
    assert [row.get("id") for row in rows] == [f"mr-row-{ident}" for ident in ids[::-1]]
    assert [cell.text for cell in rows[0].find_all("td")] == ["MIR-X001", "Requested"]


def test_a_row_kept_in_one_language_is_drawn_again_in_another(app, client_as):
    with app.app_context():
        [ident] = insert_requests(1, artist_ref=artist_ref(LUNE), buyer_ref=str(account(CAMILLE).id))
    english = row_of(client_as(LUNE), "/returns/artist/inbox", ident)
    assert english.find("span", class_="mr-badge-unread").text == "New"
    assert [cell.get("data-label") for cell in english.find_all("td")][2] == "Order"
    french = login(app.test_client(), LUNE)
    with french.session_transaction() as session:
        session["locale"] = "fr"
    row = row_of(french, "/returns/artist/inbox", ident)
    assert row.find("span", class_="mr-badge-unread").text == "Nouveau"
    assert [cell.get("data-label") for cell in row.find_all("td")][2] == "Commande"
    assert row.find("a").text == f"Retour #{ident}"
    assert "En attente de réponse" in row.text
    # And the English reader still reads English.
    assert row_of(client_as(LUNE), "/returns/artist/inbox", ident).find("a").text == f"Return #{ident}"
