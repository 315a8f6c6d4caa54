"""Small leaks: what a 404 costs, links the shop supplies, caching of private
answers. Which links are kept and what the refund failure log carries:
``tests/unit/test_leaks.py``."""

from __future__ import annotations

import sqlalchemy as sa

from mirette_returns_plugin.adapter import order_of_buyer
from mirette_returns_plugin.demo.adapter import DemoShopAdapter
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Photo
from tests import flows
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    count_statements,
    parse,
    poll_of,
    text_of,
)
from tests.shop import ALEX, CAMILLE, LUNE, account, order_ref

UNKNOWN = "2000000"

# --------------------------------------------------------------------------- #
# Someone else's order costs what an unknown one does
# --------------------------------------------------------------------------- #


class OldAdapter:
    """An adapter written before ``get_order_for_buyer`` existed."""

    def __init__(self) -> None:
        self.inner = DemoShopAdapter()

    def get_order(self, order_ref: str):
        return self.inner.get_order(order_ref)


def statements(app, call) -> tuple[object, int]:
    with count_statements(db.engine) as log:
        result = call()
    return result, len(log.statements)


def test_the_adapters_filter_by_buyer_in_their_own_query(app, ctx):
    from examples.demo_mapping import adapter as mapped

    camilles, alex, camille = order_ref("MIR-1004"), str(account(ALEX).id), str(account(CAMILLE).id)
    for adapter in (DemoShopAdapter(), mapped):
        db.session.expire_all()
        others, cost_others = statements(app, lambda adapter=adapter: adapter.get_order_for_buyer(camilles, alex))
        unknown, cost_unknown = statements(app, lambda adapter=adapter: adapter.get_order_for_buyer(UNKNOWN, alex))
        assert others is None and unknown is None
        assert cost_others == cost_unknown == 1, type(adapter).__name__
        assert adapter.get_order_for_buyer(camilles, camille) == adapter.get_order(camilles)
        assert adapter.get_order_for_buyer(camilles, "not-a-number") is None
    # An adapter without the method keeps working, through get_order.
    old = OldAdapter()
    assert order_of_buyer(old, camilles, alex) is None and order_of_buyer(old, UNKNOWN, alex) is None
    assert order_of_buyer(old, camilles, camille).number == "MIR-1004"


def test_someone_elses_order_answers_like_an_unknown_one(app, client_as):
    alex = client_as(ALEX)
    with app.app_context():
        camilles = order_ref("MIR-1004")
        engine = db.engine
    alex.get(f"/returns/orders/{UNKNOWN}")  # templates compiled, Alex's account read once
    answers = {}
    for name, ref in (("unknown", UNKNOWN), ("someone else's", camilles)):
        with count_statements(engine) as log:
            response = alex.get(f"/returns/orders/{ref}")
        answers[name] = (response.status_code, text_of(response), len(log.statements))
    assert answers["unknown"] == answers["someone else's"]
    assert answers["unknown"][0] == 404 and "This order does not exist" in answers["unknown"][1]


# --------------------------------------------------------------------------- #
# Links the shop supplies
# --------------------------------------------------------------------------- #

def test_a_javascript_terms_url_is_not_rendered_as_a_link(app, client_as, monkeypatch):
    monkeypatch.setattr(DemoShopAdapter, "artist_url", lambda self, ref: "javascript:alert(document.cookie)")
    monkeypatch.setattr(DemoShopAdapter, "product_url", lambda self, ref: "data:text/html,<script>1</script>")
    monkeypatch.setattr(DemoShopAdapter, "order_url", lambda self, ref: " javascript:alert(2)")
    camille = client_as(CAMILLE)
    with app.test_request_context():
        request_id = flows.submit_line("return").id
        mug_order = order_ref("MIR-1004")
    for url in (f"/returns/orders/{mug_order}", f"/returns/requests/{request_id}"):
        response = camille.get(url)
        assert response.status_code == 200
        page = parse(response)
        hrefs = [a.get("href") or "" for a in page.find_all("a")] + [i.get("src") or "" for i in page.find_all("img")]
        assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:"))], url
        # The names are still there, as text; the terms are not offered as a link.
        assert "Atelier Lune" in text_of(response)
        assert "Full terms of sale" not in text_of(response)
    # The artist's real terms page is a link again once the shop gives a proper URL.
    monkeypatch.setattr(DemoShopAdapter, "artist_url", lambda self, ref: f"/artists/{ref}")
    terms = parse(camille.get(f"/returns/orders/{mug_order}")).find_all("a")
    assert any(a.text == "Full terms of sale" for a in terms)


# --------------------------------------------------------------------------- #
# Caching of private answers
# --------------------------------------------------------------------------- #


def test_private_answers_are_not_kept_by_caches(app, client_as):
    camille, alex = client_as(CAMILLE), client_as(ALEX)
    with app.test_request_context():
        request_id = flows.submit_line("return", photos=[flows.photo()]).id
        photo_id = db.session.scalar(sa.select(Photo.id).where(Photo.request_id == request_id))
    news_url, headers = poll_of(camille, request_id)
    answers = {
        "details page": camille.get(f"/returns/requests/{request_id}"),
        "order page": camille.get(f"/returns/orders/{order_ref_of(app)}"),
        "fragment": camille.get(news_url, headers=HTMX),
        "nothing new": camille.get(news_url, headers=headers),
        "post": camille.post(f"/returns/requests/{request_id}/messages", data={"body": "Hello"}),
        "refused": alex.get(f"/returns/requests/{request_id}"),
        "inbox": client_as(LUNE).get("/returns/artist/inbox"),
    }
    for name, response in answers.items():
        assert response.headers.get("Cache-Control") == "no-store", (name, response.status_code)
    photo = camille.get(f"/returns/photos/{photo_id}")
    assert photo.status_code == 200 and photo.headers["Cache-Control"] == "private, no-cache"
    # Once access is lost the next look is a 404, not a cached copy.
    assert alex.get(f"/returns/photos/{photo_id}").status_code == 404
    static = camille.get("/returns/static/mirette_returns/mirette-returns.css")
    static.close()
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def order_ref_of(app) -> str:
    with app.app_context():
        return order_ref("MIR-1004")
