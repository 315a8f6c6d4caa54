"""The benchmarks' data generator (``benchmarks/marketplace``): a marketplace history, consistent end to end."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import pytest
import sqlalchemy as sa
from markupsafe import escape

from benchmarks.marketplace import FINAL, FULL_PAGE, Scale, generate, generate_command
from mirette_returns_plugin.demo.models import (
    Account,
    ArtistProfile,
    PaymentRefund,
    Shipment,
    ShopOrder,
    ShopOrderLine,
    db,
)
from mirette_returns_plugin.models import HistoryEntry, Message, PartLock, Refund, Request, RequestArtist
from tests.shop import SUPPORT

SMALL = Scale(orders=20, requests=40, messages=200, artists=4, busiest=12, buyers=5, seed=7)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def generated(app):
    """The seeded demo plus a small generated history, and what was counted before."""
    with app.app_context():
        before = {model: count(model) for model in (Request, Message, ShopOrder, ArtistProfile, Account)}
        landmarks = generate(SMALL)
        db.session.remove()
    return landmarks, before


def new_requests() -> list[Request]:
    return list(db.session.scalars(sa.select(Request).where(Request.order_number.like("GEN-%"))))


def test_writes_the_numbers_asked_for(app, generated):
    landmarks, before = generated
    with app.app_context():
        assert count(Request) - before[Request] == 40
        assert count(Message) - before[Message] == 200
        assert count(ShopOrder) - before[ShopOrder] == 20
        assert count(ArtistProfile) - before[ArtistProfile] == 4
        # An account per artist and per buyer; the seeded support account is reused.
        assert count(Account) - before[Account] == 4 + 5
        assert landmarks.support_email == SUPPORT
        by_artist = Counter(r.artist_ref for r in new_requests())
        assert by_artist[landmarks.busiest_artist_ref] == 12
        assert by_artist.most_common(1)[0] == (landmarks.busiest_artist_ref, 12)
        long_thread = db.session.scalar(sa.select(sa.func.count()).where(
            Message.request_id == landmarks.long_thread_request_id))
        assert long_thread == 50
        assert landmarks.rows[Request.__tablename__] == 40


def test_requests_agree_with_the_shop_and_their_history(app, generated):
    with app.app_context():
        requests = new_requests()
        assert {r.kind for r in requests} >= {"return"}
        for req in requests:
            shipment = db.session.scalar(sa.select(Shipment).where(
                Shipment.order_id == int(req.order_ref), Shipment.artist_id == int(req.artist_ref)))
            assert shipment is not None, req.id
            order = db.session.get(ShopOrder, int(req.order_ref))
            assert order.number == req.order_number and str(order.buyer_id) == req.buyer_ref
            if req.kind == "cancellation":
                assert req.line_ref is None
                expected = {"requested": {"paid"}, "order_refused": {"cancelled"}, "refunded": {"cancelled"},
                            "declined": {"delivered"}, "withdrawn": {"delivered"}}[req.status]
                assert shipment.state in expected, (req.status, shipment.state)
            else:
                line = db.session.get(ShopOrderLine, int(req.line_ref))
                assert line.shipment_id == shipment.id
                assert shipment.state in ("accepted", "shipped", "delivered")
            history = list(db.session.scalars(
                sa.select(HistoryEntry).where(HistoryEntry.request_id == req.id).order_by(HistoryEntry.id)))
            assert history[0].action == "submit" and history[0].from_status is None
            assert history[-1].to_status == req.status
            for earlier, later in itertools.pairwise(history):
                assert later.from_status == earlier.to_status
                assert later.created_at >= earlier.created_at
            assert history[0].created_at == req.created_at
            assert (req.closed_at is not None) == (req.status in FINAL)
            times = [h.created_at for h in history] + list(db.session.scalars(
                sa.select(Message.created_at).where(Message.request_id == req.id)))
            assert max(times) == req.last_activity_at
            refund = db.session.scalar(sa.select(Refund).where(Refund.request_id == req.id))
            assert (refund is not None) == (req.status in ("refund_initiated", "refunded", "order_refused"))
            if refund is not None:
                payment = db.session.scalar(sa.select(PaymentRefund).where(
                    PaymentRefund.idempotency_key == refund.idempotency_key))
                assert payment.paid == (req.status == "refunded") and payment.amount == req.refund_total
        # A line never holds more units under open or completed requests than were bought.
        held = Counter(r.line_ref for r in requests
                       if r.line_ref and r.status not in ("declined", "withdrawn", "replacement_shipped"))
        for line_ref, units in held.items():
            assert units <= db.session.get(ShopOrderLine, int(line_ref)).quantity
        locks = db.session.scalars(sa.select(PartLock).where(
            PartLock.order_ref.in_({r.order_ref for r in requests}))).all()
        assert {(lock.order_ref, lock.artist_ref) for lock in locks} == {(r.order_ref, r.artist_ref) for r in requests}
        # The support list's artist filter knows every artist with requests, by name.
        artists = db.session.scalars(sa.select(RequestArtist).where(
            RequestArtist.ref.in_({r.artist_ref for r in requests}))).all()
        assert {(a.ref, a.name, a.name_key) for a in artists} == {
            (r.artist_ref, r.artist_name, r.artist_name.casefold()) for r in requests}


def test_the_long_thread_renders_on_the_details_page(app, generated, client_as):
    landmarks, _before = generated
    response = client_as(landmarks.long_thread_buyer_email).get(
        f"/returns/requests/{landmarks.long_thread_request_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    with app.app_context():
        req = db.session.get(Request, landmarks.long_thread_request_id)
        bodies = list(db.session.scalars(sa.select(Message.body).where(Message.request_id == req.id)))
        assert len(bodies) == 50
        assert req.order_number in page and str(escape(req.product_name)) in page
        for body in bodies:
            assert str(escape(body)) in page


def test_the_busiest_artist_finds_the_requests_in_the_inbox(app, generated, client_as):
    landmarks, _before = generated
    client = client_as(landmarks.busiest_artist_email)
    page = client.get("/returns/artist/inbox").get_data(as_text=True)
    with app.app_context():
        mine = [r for r in new_requests() if r.artist_ref == landmarks.busiest_artist_ref]
        others = [r for r in new_requests() if r.artist_ref != landmarks.busiest_artist_ref]
    assert len(mine) == 12
    for req in mine:
        assert f"/returns/requests/{req.id}\"" in page
    for req in others:
        assert f"/returns/requests/{req.id}\"" not in page
    # Support sees them in the list filtered on a status the generator used.
    status = mine[0].status
    support_page = client_as(SUPPORT).get(f"/returns/support/requests?status={status}").get_data(as_text=True)
    assert f"/returns/requests/{mine[0].id}\"" in support_page


def test_the_command_shows_progress_and_writes_a_summary(app, tmp_path):
    summary = tmp_path / "summary.json"
    result = app.test_cli_runner().invoke(generate_command, args=[
        "--orders", "5", "--requests", "8", "--messages", "30", "--artists", "2",
        "--busiest", "5", "--long-thread", "10", "--summary", str(summary)])
    assert result.exit_code == 0, result.output
    assert "Generating" in result.output
    written = json.loads(summary.read_text(encoding="utf-8"))
    assert written["rows"]["mirette_returns_message"] == 30
    assert f"request {written['long_thread_request_id']}" in result.output
    with app.app_context():
        assert count(Message) >= 30
        artist = db.session.scalar(sa.select(Account).where(Account.email == written["busiest_artist_email"]))
        assert artist is not None and str(artist.artist_id) == written["busiest_artist_ref"]


def test_impossible_numbers_are_refused_and_nothing_is_written(app):
    with app.app_context():
        before = count(Request)
    result = app.test_cli_runner().invoke(generate_command, args=[
        "--orders", "5", "--requests", "8", "--messages", "30", "--busiest", "9"])
    assert result.exit_code != 0
    assert "--busiest must be between 2 and --requests" in result.output
    with app.app_context():
        assert count(Request) == before


def test_a_second_run_appends_with_new_ids(app):
    with app.app_context():
        first = generate(Scale(orders=3, requests=4, messages=10, artists=2, busiest=3, long_thread=5))
        second = generate(Scale(orders=3, requests=4, messages=10, artists=2, busiest=3, long_thread=5))
        assert second.long_thread_request_id > first.long_thread_request_id
        assert second.busiest_artist_email != first.busiest_artist_email
        # The database hands out the next ids itself afterwards.
        buyer = db.session.scalar(sa.select(Account).where(Account.email == second.long_thread_buyer_email))
        order = ShopOrder(number="AFTER-1", buyer_id=buyer.id, placed_at=buyer_order_time(buyer.id))
        db.session.add(order)
        db.session.commit()
        assert order.id > int(db.session.get(Request, second.post_request_id).order_ref)


def buyer_order_time(buyer_id: int):
    return db.session.scalar(sa.select(sa.func.max(ShopOrder.placed_at)).where(ShopOrder.buyer_id == buyer_id))


def test_every_support_filter_has_a_full_first_page_at_the_smallest_benchmark_scale(app):
    """Both scales list a full page for each filter, so their growth measures the query."""
    with app.app_context():
        generate(Scale(orders=500, requests=1000, messages=3000, artists=20, busiest=100))
        requests = new_requests()
        db.session.remove()
    statuses = Counter(r.status for r in requests)
    kinds = Counter(r.kind for r in requests)
    escalated = [r for r in requests if r.escalated]
    assert {status: n for status, n in statuses.items() if n < FULL_PAGE} == {}, statuses
    assert set(statuses) >= {"requested", "accepted", "shipped_back", "received", "refund_initiated", "refunded",
                             "order_refused", "replacement_shipped", "declined", "withdrawn"}
    assert min(kinds.values()) >= FULL_PAGE and len(kinds) == 3, kinds
    assert len(escalated) >= FULL_PAGE
    assert all(r.status not in FINAL for r in escalated)
