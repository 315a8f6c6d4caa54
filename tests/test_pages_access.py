"""Every route, tried by every other role and by an anonymous visitor: refused, nothing changed."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import Shipment, db
from mirette_returns_plugin.models import HistoryEntry, Message, OutboxEmail, Photo, Refund, Request
from mirette_returns_plugin.state import current_state
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    plain_jpeg,
    text_of,
)
from tests.shop import ALEX, BOIS, CAMILLE, LUNE, SUPPORT, VERRE, line_ref, order_ref, user

STRANGERS = (ALEX, VERRE, BOIS, None)


def snapshot(app) -> tuple:
    """Everything a refused request must leave as it was."""
    with app.app_context():
        counts = tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Request, Message, HistoryEntry, Photo, Refund, OutboxEmail)
        )
        requests = tuple(db.session.execute(
            sa.select(Request.id, Request.status, Request.version, Request.escalated).order_by(Request.id)))
        stages = tuple(db.session.scalars(sa.select(Shipment.state).order_by(Shipment.id)))
        return counts, requests, stages


@pytest.fixture
def setup(app):
    """Camille's return of a mug to Atelier Lune, with a photo, and the refs."""
    with app.test_request_context():
        photo = current_state().photos.prepare(io.BytesIO(plain_jpeg()), "p.jpg")
        created = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="damaged",
            photos=[photo]))
        photo_id = db.session.scalar(sa.select(Photo.id))
        return {
            "order": order_ref("MIR-1004"), "line": line_ref("MIR-1004", "Speckled mug"),
            "pending": order_ref("MIR-1001"), "request": created.id, "version": created.version,
            "photo": photo_id,
        }


def buyer_routes(refs) -> list[tuple[str, str, dict]]:
    order, line = refs["order"], refs["line"]
    form = {"quantity": "1", "kind": "return", "reason_code": "changed_mind"}
    return [
        ("GET", f"/returns/orders/{order}", {}),
        ("GET", f"/returns/orders/{order}/lines/{line}", {}),
        ("GET", f"/returns/orders/{order}/lines/{line}/return", {}),
        ("GET", f"/returns/orders/{order}/lines/{line}/preview?quantity=1", {}),
        ("POST", f"/returns/orders/{order}/lines/{line}/return", form),
        ("POST", f"/returns/orders/{refs['pending']}/cancel", {"scope": "all", "message": "cancel"}),
    ]


def request_routes(refs) -> list[tuple[str, str, dict]]:
    ident, version = refs["request"], refs["version"]
    routes = [
        ("GET", f"/returns/requests/{ident}", {}),
        ("GET", f"/returns/requests/{ident}/news?after=0", {}),
        ("POST", f"/returns/requests/{ident}/messages", {"body": "hello"}),
        ("GET", f"/returns/photos/{refs['photo']}", {}),
        ("GET", f"/returns/photos/{refs['photo']}?size=thumb", {}),
    ]
    for action in sorted({t.action for t in workflow.TRANSITIONS}):
        routes.append(("POST", f"/returns/requests/{ident}/actions/{action}",
                       {"version": str(version), "note": "x", "tracking": "t", "confirm": "1"}))
    return routes


def call(client, method, url, data, headers=None):
    if method == "GET":
        return client.get(url, headers=headers or {})
    return client.post(url, data=data, headers=headers or {})


def test_buyer_pages_are_the_buyers_only(app, client_as, setup):
    before = snapshot(app)
    for email in (ALEX, LUNE, VERRE, SUPPORT, None):
        client = client_as(email)
        for method, url, data in buyer_routes(setup):
            for headers in ({}, HTMX):
                response = call(client, method, url, data, headers)
                assert response.status_code == 404, (email, method, url, response.status_code)
                assert "This order does not exist" in text_of(response) or "not part of" in text_of(response)
    assert snapshot(app) == before


def test_request_pages_are_hidden_from_everyone_else(app, client_as, setup):
    before = snapshot(app)
    for email in STRANGERS:
        client = client_as(email)
        for method, url, data in request_routes(setup):
            response = call(client, method, url, data)
            assert response.status_code == 404, (email, method, url, response.status_code)
            assert response.mimetype == "text/html"
            assert "Speckled mug" not in text_of(response)
    assert snapshot(app) == before


def test_steps_the_table_does_not_give_a_role_are_refused(app, client_as, setup):
    with app.test_request_context():
        req = db.session.get(Request, setup["request"])
        allowed = {email: {t.action for t, _r in workflow.available_actions(user(email), req)}
                   for email in (CAMILLE, LUNE, SUPPORT)}
    before = snapshot(app)
    for email, may in allowed.items():
        client = client_as(email)
        for method, url, data in request_routes(setup):
            action = url.rsplit("/", 1)[1]
            if "/actions/" not in url or action in may:
                continue
            response = call(client, method, url, data)
            assert response.status_code == 403, (email, action, response.status_code)
            assert "not possible now" in text_of(response) or "Only " in text_of(response) \
                or "support" in text_of(response)
    assert snapshot(app) == before


def test_lists_are_refused_to_the_wrong_people(app, client_as, setup):
    for email in (CAMILLE, ALEX, SUPPORT, None):
        if email == SUPPORT:
            continue
        assert client_as(email).get("/returns/artist/inbox").status_code == 403
    for email in (CAMILLE, ALEX, LUNE, VERRE, None):
        assert client_as(email).get("/returns/support/requests").status_code == 403


def test_unknown_things_are_404_pages(app, client_as, setup):
    client = client_as(CAMILLE)
    for url in ("/returns/requests/999999", "/returns/photos/999999", "/returns/orders/999999",
                f"/returns/orders/{setup['order']}/lines/999999/return", "/returns/requests/999999/news"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "does not exist" in text_of(response) or "not part of" in text_of(response)
