"""The support team's insights: a period's requests counted, charted and exported."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import HistoryEntry, Message, Refund, RefundState, Request, RequestArtist
from tests.pagekit import (
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    parse,
    text_of,
)
from tests.shop import CAMILLE, LUNE, SUPPORT

ARTISTS = {"art-a": "Atelier Nord", "art-b": "Bois Clair", "art-c": "Verre Bleu"}
PERIOD = "from=2026-11-01&to=2026-11-30"


def at(day: int, hour: float = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, tzinfo=timezone.utc) + timedelta(hours=hour)


def add_request(key: str, artist: str, kind: str, status: str, created: datetime, *, reason: str | None = None,
                product: tuple[str, str] | None = None, comment: str | None = None) -> Request:
    row = Request(kind=kind, status=status, order_ref=f"o-{key}", order_number=f"N-{key}", artist_ref=artist,
                  artist_name=ARTISTS[artist], artist_email=f"{artist}@artists.example", buyer_ref="b-1",
                  buyer_name="Camille", buyer_email=CAMILLE, currency="EUR", reason_code=reason,
                  product_ref=product[0] if product else None, product_name=product[1] if product else None,
                  line_ref=f"l-{key}" if product else None, quantity=1 if product else 0,
                  unit_price=Decimal("20.00"), refund_total=Decimal("20.00"), comment=comment,
                  created_at=created, last_activity_at=created)
    db.session.add(row)
    db.session.flush()
    db.session.add(HistoryEntry(request_id=row.id, action="submit", to_status="requested", actor_role="buyer",
                                actor_ref="b-1", actor_name="Camille", created_at=created))
    return row


def artist_message(row: Request, hours: float, role: str = "artist") -> None:
    db.session.add(Message(request_id=row.id, author_role=role, author_ref=row.artist_ref if role == "artist"
                           else "b-1", author_name="someone", body="Hello", created_at=row.created_at
                           + timedelta(hours=hours)))


def artist_step(row: Request, hours: float) -> None:
    db.session.add(HistoryEntry(request_id=row.id, action="accept", from_status="requested", to_status="accepted",
                                actor_role="artist", actor_ref=row.artist_ref, actor_name="someone",
                                created_at=row.created_at + timedelta(hours=hours)))


def refunded(row: Request, hours: float, state: str = RefundState.COMPLETED) -> None:
    db.session.add(Refund(request_id=row.id, idempotency_key=f"key-{row.id}", amount=Decimal("20.00"),
                          currency="EUR", state=state, created_at=row.created_at,
                          completed_at=row.created_at + timedelta(hours=hours)
                          if state == RefundState.COMPLETED else None))


@pytest.fixture
def seeded(app) -> dict[str, int]:
    """Six requests in November 2026, and one just before and one just after it."""
    with app.app_context():
        db.session.add_all([RequestArtist(ref=ref, name=name, name_key=name.casefold())
                            for ref, name in ARTISTS.items()])
        mug, apron, board, vase = (("p-1", "Speckled mug"), ("p-2", "Linen apron"), ("p-3", "Oak board"),
                                   ("p-4", "Blue vase"))
        r1 = add_request("1", "art-a", "return", "requested", at(2, 10), reason="damaged", product=mug,
                         comment="=HYPERLINK(\"http://x.example\")")
        artist_message(r1, 0.5, role="buyer")  # the buyer's own words are no answer
        artist_message(r1, 2)
        r2 = add_request("2", "art-a", "return", "refunded", at(3), reason="damaged", product=mug, comment="-3+4")
        artist_step(r2, 6)
        refunded(r2, 48)
        r3 = add_request("3", "art-a", "exchange", "accepted", at(4), reason="wrong_size", product=apron,
                         comment="@SUM(A1)")
        artist_message(r3, 10)
        artist_step(r3, 4.5)
        r4 = add_request("4", "art-b", "return", "refunded", at(10), reason="other", product=board, comment="+1")
        artist_step(r4, 1)
        refunded(r4, 24)
        r5 = add_request("5", "art-b", "cancellation", "requested", at(11))
        r6 = add_request("6", "art-c", "return", "declined", at(20), reason="changed_mind", product=vase,
                         comment="Plain words")
        artist_message(r6, 20)
        refunded(r6, 1, state=RefundState.INITIATED)  # not paid yet: no refund time
        before = add_request("7", "art-a", "return", "requested", at(31, 23.99, month=10), reason="other",
                             product=vase)
        artist_message(before, 100)
        after = add_request("8", "art-c", "return", "requested", at(1, month=12), reason="other", product=vase)
        db.session.commit()
        ids = {f"r{n}": row.id for n, row in enumerate((r1, r2, r3, r4, r5, r6), start=1)}
        ids.update(before=before.id, after=after.id)
        return ids


def table(page, name: str) -> list[tuple[str, str]]:
    rows = page.by_id(f"mr-insight-{name}-table").find("tbody").find_all("tr")
    return [(row.find("th").text.strip(), row.find("td").text.strip()) for row in rows]


def test_the_figures_of_a_period_are_exactly_right(app, client_as, seeded):
    support = client_as(SUPPORT)
    response = support.get(f"/returns/support/insights?{PERIOD}")
    assert response.status_code == 200
    page = parse(response)
    assert "Every artist, from Nov 1, 2026 to Nov 30, 2026: 6 requests made." in " ".join(
        page.by_id("mr-insights-summary").text.split())
    assert table(page, "status") == [("Refunded", "2"), ("Requested", "2"),
                                     ("Accepted - return instructions given", "1"), ("Declined", "1")]
    # Most first, then by code (an empty reason, a cancellation's, first).
    assert table(page, "reason") == [("Damaged product", "2"), ("No reason (cancellation)", "1"),
                                     ("Changed my mind", "1"), ("Other", "1"), ("Wrong size or fit", "1")]
    assert table(page, "kind") == [("Return", "4"), ("Cancellation", "1"), ("Exchange", "1")]
    assert table(page, "artists") == [("Atelier Nord", "3"), ("Bois Clair", "2"), ("Verre Bleu", "1")]
    assert table(page, "products") == [("Speckled mug by Atelier Nord", "2"), ("Linen apron by Atelier Nord", "1"),
                                       ("Oak board by Bois Clair", "1"), ("Blue vase by Verre Bleu", "1")]
    # Answers after 2, 6, 4.5, 1 and 20 hours (the buyer's message and the
    # cancellation nobody answered do not count); refunds paid after 48 and 24.
    assert " ".join(page.by_id("mr-insights-first-answer").text.split()) == "4.5 h (5 requests answered)"
    assert " ".join(page.by_id("mr-insights-refund").text.split()) == "36 h (2 requests refunded)"
    # Each table has its chart: one bar per row, the longest the widest.
    chart = page.by_id("mr-insight-status-chart")
    widths = [float(bar.get("width")) for bar in chart.find_all("rect")]
    assert widths == [360.0, 360.0, 180.0, 180.0]
    assert "style=" not in response.get_data(as_text=True).split("<main", 1)[-1]


def test_one_artist(app, client_as, seeded):
    support = client_as(SUPPORT)
    for typed in ("art-b", "BOIS CLAIR"):
        page = parse(support.get(f"/returns/support/insights?{PERIOD}&artist={typed.replace(' ', '+')}"))
        assert "Bois Clair, from Nov 1, 2026 to Nov 30, 2026: 2 requests made." in " ".join(
            page.by_id("mr-insights-summary").text.split())
        assert table(page, "status") == [("Refunded", "1"), ("Requested", "1")]
        assert table(page, "kind") == [("Cancellation", "1"), ("Return", "1")]
        assert page.by_id("mr-insight-artists") is None
        assert table(page, "products") == [("Oak board by Bois Clair", "1")]
        assert " ".join(page.by_id("mr-insights-first-answer").text.split()) == "1 h (1 request answered)"
        assert " ".join(page.by_id("mr-insights-refund").text.split()) == "24 h (1 request refunded)"


def exported(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_export_holds_the_filtered_requests_and_no_formula(app, client_as, seeded):
    support = client_as(SUPPORT)
    page = parse(support.get(f"/returns/support/insights?{PERIOD}&artist=art-a"))
    link = page.by_id("mr-insights-export")
    response = support.get(link.get("href"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="requests-2026-11-01-2026-11-30.csv"')
    rows = exported(response)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["id", "created_at", "kind", "status"]
    assert [int(row[0]) for row in body] == [seeded["r1"], seeded["r2"], seeded["r3"]]
    comments = [row[header.index("comment")] for row in body]
    assert comments == ["'=HYPERLINK(\"http://x.example\")", "'-3+4", "'@SUM(A1)"]
    assert body[0][header.index("created_at")] == "2026-11-02T10:00:00+00:00"
    everyone = exported(support.get(f"/returns/support/insights/requests.csv?{PERIOD}"))
    assert sorted(int(row[0]) for row in everyone[1:]) == sorted(
        seeded[key] for key in ("r1", "r2", "r3", "r4", "r5", "r6"))
    assert [row[header.index("comment")] for row in everyone[1:] if row[0] == str(seeded["r4"])] == ["'+1"]


@pytest.mark.parametrize(("query", "field", "message"), [
    ("from=2026-13-01&to=2026-11-30", "from", "Enter a date such as"),
    ("from=2026-11-01&to=yesterday", "to", "Enter a date such as"),
    ("from=2026-11-30&to=2026-11-01", "to", "The end of the period must not be before its start."),
    ("from=2024-01-01&to=2026-11-30", "to", "Choose a period of at most 366 days."),
    ("from=2026-11-01&to=2026-11-30&artist=Nobody+Here", "artist", "No artist is called “Nobody Here”."),
    ("from=99999-01-01", "from", "Enter a date such as"),
    ("from=2026-11-01T00:00&to=2026-11-02", "from", "Enter a date such as"),
    ("from=9999-12-31&to=9999-12-31", "to", "Enter a date from 1970-01-01 to 9998-12-31."),
    ("from=0001-01-01&to=0001-01-02", "from", "Enter a date from 1970-01-01 to 9998-12-31."),
])
def test_bad_filters_say_what_is_wrong(app, client_as, seeded, query, field, message):
    support = client_as(SUPPORT)
    for path in ("/returns/support/insights", "/returns/support/insights/requests.csv"):
        response = support.get(f"{path}?{query}")
        assert response.status_code == 400, (path, response.status_code)
        page = parse(response)
        assert message in page.by_id(f"mr-insights-filter-{field}-error").text
        assert page.by_id(f"mr-insights-filter-{field}").get("aria-invalid") == "true"
        assert page.by_id("mr-insights-summary") is None


#: What a hand-edited link may hold for a date.
ODD_DATES = st.one_of(st.dates().map(date.isoformat), st.text(max_size=40),
                      st.sampled_from(["", "0000-00-00", "9999-12-31", "0001-01-01", "2026-02-30", "20261101",
                                       "2026-W45-1", "-2026-11-01", "2026-11-01\n", "１２３４-１１-０１"]))


def test_any_filter_gets_figures_or_a_message(app, client_as, seeded):
    support = client_as(SUPPORT)

    @settings(max_examples=60, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(first=ODD_DATES, last=ODD_DATES, artist=st.one_of(st.sampled_from(["", "art-a", "%", "_"]),
                                                             st.text(max_size=80)))
    def attempt(first, last, artist):
        for path in ("/returns/support/insights", "/returns/support/insights/requests.csv"):
            response = support.get(path, query_string={"from": first, "to": last, "artist": artist})
            if response.status_code == 400:
                page = parse(response)
                assert page.find("p", role="alert") is not None or "(NUL)" in text_of(response), (first, last)
            else:
                assert response.status_code == 200, (path, first, last, artist, response.status_code)
                response.close()

    attempt()


def test_the_default_period_is_the_last_30_days(app, client_as):
    now = datetime.now(timezone.utc)
    with app.app_context():
        db.session.add(RequestArtist(ref="art-a", name="Atelier Nord", name_key="atelier nord"))
        add_request("1", "art-a", "return", "requested", now - timedelta(days=1), reason="other",
                    product=("p-1", "Mug"))
        add_request("2", "art-a", "return", "requested", now - timedelta(days=31), reason="other",
                    product=("p-1", "Mug"))
        db.session.commit()
    page = parse(client_as(SUPPORT).get("/returns/support/insights"))
    assert page.by_id("mr-insights-filter-to").get("value") == now.date().isoformat()
    assert page.by_id("mr-insights-filter-from").get("value") == (now.date() - timedelta(days=29)).isoformat()
    assert "1 request made." in page.by_id("mr-insights-summary").text


def test_the_support_list_links_to_the_insights(app, client_as):
    page = parse(client_as(SUPPORT).get("/returns/support/requests"))
    assert page.find("a", href="/returns/support/insights") is not None


def test_only_support_sees_the_insights(app, client_as, seeded):
    for email in (CAMILLE, LUNE, None):
        for path in (f"/returns/support/insights?{PERIOD}", f"/returns/support/insights/requests.csv?{PERIOD}"):
            response = client_as(email).get(path)
            assert response.status_code == 403, (email, path)
            assert "support team" in text_of(response)
            assert "Speckled mug" not in response.get_data(as_text=True)


def test_the_page_in_french(app, client_as, seeded):
    support = client_as(SUPPORT)
    with support.session_transaction() as session:
        session["locale"] = "fr"
    page = parse(support.get(f"/returns/support/insights?{PERIOD}"))
    assert page.find("h1").text.strip() == "Statistiques"
    assert "6 demandes" in page.by_id("mr-insights-summary").text
    refund = page.by_id("mr-insights-refund").text
    assert " ".join(refund.split()) == "36 h (2 demandes remboursées)"
    assert ("Produit endommagé", "2") in table(page, "reason")
    assert ("Speckled mug, par Atelier Nord", "2") in table(page, "products")
    bad = parse(support.get("/returns/support/insights?from=2026-11-30&to=2026-11-01"))
    assert "La fin de la période ne peut pas précéder son début." in bad.by_id("mr-insights-filter-to-error").text
