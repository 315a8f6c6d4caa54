"""The support team's list of every request, and what support may do on one."""

from __future__ import annotations

import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import HistoryEntry, Message, RequestArtist
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    count_statements,
    parse,
    submit,
)
from tests.shop import ALEX, BOIS, CAMILLE, LUNE, SUPPORT, VERRE, artist_ref, line_ref, order_ref, user


def make_requests(app) -> dict[str, int]:
    with app.test_request_context():
        mug = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="other"))
        board = workflow.submit_return(user(ALEX), order_ref("MIR-2002"), workflow.ReturnForm(
            line_ref=line_ref("MIR-2002", "Oak chopping board"), quantity=1, kind="return", reason_code="other"))
        workflow.perform(user(ALEX), board.id, "escalate", note="The artist does not answer.")
        [vase] = workflow.request_cancellation(user(ALEX), order_ref("MIR-2001"), None, message="Cancel please")
        return {"mug": mug.id, "board": board.id, "vase": vase.id}


def ids_on(page) -> set[int]:
    return {int(row.get("id")[7:]) for row in page.find_all("tr", class_="mr-row")}


def test_support_sees_every_request_with_filters(app, client_as):
    ids = make_requests(app)
    support = client_as(SUPPORT)
    page = parse(support.get("/returns/support/requests"))
    assert ids_on(page) == set(ids.values())
    field = page.find("input", name="artist")
    assert field.get("type") == "search" and page.by_id(field.get("aria-describedby")).text == (
        "All or part of the artist's name.")
    with app.app_context():
        bois, verre = artist_ref(BOIS), artist_ref(VERRE)
    # A link may name the artist by the shop's reference...
    by_ref = parse(support.get(f"/returns/support/requests?artist={bois}"))
    assert ids_on(by_ref) == {ids["board"]}
    assert by_ref.find(class_="mr-artist-matches").text.strip() == "Artist found: Bois & Fil"
    # ...support types part of a name, in any case.
    by_name = parse(support.get("/returns/support/requests?artist=LUNE"))
    assert ids_on(by_name) == {ids["mug"]}
    assert by_name.find(class_="mr-artist-matches").text.strip() == "Artist found: Atelier Lune"
    several = parse(support.get("/returns/support/requests?artist=L"))
    assert ids_on(several) == set(ids.values())
    assert several.find(class_="mr-artist-matches").text.strip() == (
        "Artists found: Atelier Lune, Bois & Fil, Verre Soufflé")
    # Wildcards are taken as typed.
    nobody = parse(support.get("/returns/support/requests?artist=%25"))
    assert ids_on(nobody) == set()
    assert nobody.find(class_="mr-artist-matches").text.strip() == "No artist's name contains “%”."
    assert ids_on(parse(support.get("/returns/support/requests?escalated=1"))) == {ids["board"]}
    assert ids_on(parse(support.get(f"/returns/support/requests?artist={verre}&kind=cancellation"))) == {
        ids["vase"]}
    assert ids_on(parse(support.get("/returns/support/requests?status=declined"))) == set()
    fragment = support.get("/returns/support/requests?escalated=1", headers=HTMX)
    assert "<html" not in fragment.get_data(as_text=True)
    assert ids_on(parse(fragment)) == {ids["board"]}


def test_support_reads_writes_and_steps_in(app, client_as):
    ids = make_requests(app)
    support = client_as(SUPPORT)
    page = parse(support.get(f"/returns/requests/{ids['board']}"))
    assert "The artist does not answer." in page.by_id("mr-timeline").text
    assert "Write in this thread as the support team" in page.by_id("mr-reply").text
    steps = {form.get("id") for form in page.by_id("mr-actions").find_all("form")}
    assert {"mr-action-accept", "mr-action-decline", "mr-action-resolve_escalation"} <= steps
    assert "mr-action-withdraw" not in steps and "mr-action-escalate" not in steps
    response = submit(support, page.by_id("mr-action-accept"), headers=HTMX, note="Send it to the artist.")
    assert response.status_code == 200
    fragment = parse(response)
    assert "Accepted" in fragment.find("section", id="mr-summary").text
    with app.app_context():
        entry = db.session.scalar(sa.select(HistoryEntry).where(
            HistoryEntry.request_id == ids["board"], HistoryEntry.action == "accept"))
        assert entry.actor_role == "support"
    submit(support, parse(support.get(f"/returns/requests/{ids['board']}")).by_id("mr-reply"),
           body="I asked Bois & Fil to answer you.", files=[])
    with app.app_context():
        message = db.session.scalar(sa.select(Message).where(Message.request_id == ids["board"]))
        assert message.author_role == "support"
    assert "(Support team)" in parse(client_as(ALEX).get(f"/returns/requests/{ids['board']}")).by_id(
        "mr-timeline").text


def test_list_is_only_for_support(app, client_as):
    make_requests(app)
    for email in (CAMILLE, LUNE, None):
        response = client_as(email).get("/returns/support/requests")
        assert response.status_code == 403
        assert "support team" in parse(response).text
        assert parse(response).find("table") is None


def test_the_artist_filter_reads_the_artists_table_never_the_whole_history(app, client_as):
    make_requests(app)
    with app.app_context():
        engine = db.engine
        # The shop renamed an artist: the newest request carries the new name.
        workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="other"))
        names = dict(db.session.execute(sa.select(RequestArtist.ref, RequestArtist.name)).all())
        assert sorted(names.values()) == ["Atelier Lune", "Bois & Fil", "Verre Soufflé"]
    support = client_as(SUPPORT)
    with count_statements(engine) as log:
        assert support.get("/returns/support/requests?artist=bois").status_code == 200
    assert not [sql for sql in log.statements if "GROUP BY" in sql.upper()]
    assert [sql for sql in log.statements if "mirette_returns_artist" in sql]
    # Without an artist filter, the artists are not read at all.
    with count_statements(engine) as log:
        assert support.get("/returns/support/requests").status_code == 200
    assert not [sql for sql in log.statements if "mirette_returns_artist" in sql]


def test_a_broad_artist_search_says_how_many_artists_it_found(app, client_as):
    ids = make_requests(app)
    with app.app_context():
        db.session.add_all([RequestArtist(ref=f"studio-{n}", name=f"Studio {n:02}", name_key=f"studio {n:02}")
                            for n in range(1, 13)])
        db.session.commit()
    support = client_as(SUPPORT)
    page = parse(support.get("/returns/support/requests?artist=STUDIO"))
    assert page.find(class_="mr-artist-matches").text.strip() == (
        "12 artists found, among them Studio 01, Studio 02, Studio 03, Studio 04, Studio 05, Studio 06, "
        "Studio 07, Studio 08, Studio 09, Studio 10. Type more of the name to find fewer.")
    assert ids_on(page) == set()  # those studios have no requests
    # Spaces alone are no search.
    blank = parse(support.get("/returns/support/requests?artist=%20%20"))
    assert ids_on(blank) == set(ids.values()) and blank.find(class_="mr-artist-matches") is None
