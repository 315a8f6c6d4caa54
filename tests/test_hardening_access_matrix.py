"""The access matrix: every route of the plugin, tried by eight people.

:data:`MATRIX` says, for each route of the blueprint and each person, what
must happen; :data:`ACTIONS` does the same for every step of the transition
table (the ``/actions/<action>`` route). Both are checked against the app's
own route table and ``workflow.TRANSITIONS``: a route or a step added
without a row here fails :func:`test_every_route_is_in_the_matrix`.

The people, on Camille's return of a mug to Atelier Lune (and her
cancellation of MIR-1001, also Lune's):

- ``anonymous``: nobody signed in;
- ``other_buyer``: Alex, who bought from the same artists;
- ``other_artist``: Bois & Fil, who sells in Camille's orders too;
- ``buyer``: Camille; ``artist``: Atelier Lune; ``support``: the team;
- ``buyer_support``: Camille, also on the support team, and ``buyer_artist``:
  Camille, also Atelier Lune's artist (granted in the test, :func:`grant`).
  On a request she bought, a person is its buyer only: every artist or
  support step is refused, never her own return accepted or refunded.

Outcomes: ``A`` allowed (and its effect checked in the page and the
database), ``N`` 404 with the very page an unknown id gets (existence itself
is private), ``F`` 403 with a message saying why. A refused request changes
nothing, and nobody without a role on the request sees any of its private
data (product, order number, message text) in any answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from flask import Flask, url_for

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import HistoryEntry, Message, Request
from tests.hardening import BASE_CONFIG, PRIVATE_MARKERS, SECRET_MESSAGE, World, build_world, snapshot
from tests.pagekit import HTMX, another_app, parse, text_of
from tests.shop import ALEX, BOIS, CAMILLE, LUNE, SUPPORT, account, artist_ref, login

ALLOWED, HIDDEN, REFUSED = "allowed", "404", "403"
IDENTITIES: dict[str, str | None] = {
    "anonymous": None,
    "other_buyer": ALEX,
    "other_artist": BOIS,
    "buyer": CAMILLE,
    "artist": LUNE,
    "support": SUPPORT,
    "buyer_support": CAMILLE,
    "buyer_artist": CAMILLE,
}
#: What Camille's account also holds for each identity that is her.
GRANTS: dict[str, dict[str, object]] = {
    "buyer_support": {"is_support": True},
    "buyer_artist": {"artist_of": LUNE},
}
#: The role each allowed person acts in (the buyer's, for Camille in any guise).
ACTS_AS = {"buyer": "buyer", "artist": "artist", "support": "support", "buyer_support": "buyer",
           "buyer_artist": "buyer"}
#: People with no role on Camille's requests: nothing of them may leak to these.
OUTSIDERS = ("anonymous", "other_buyer", "other_artist")


def row(spec: str) -> dict[str, str]:
    """``"N N N A A A"``: the outcome for each person, in :data:`IDENTITIES` order."""
    codes = {"A": ALLOWED, "N": HIDDEN, "F": REFUSED}
    outcomes = spec.split()
    assert len(outcomes) == len(IDENTITIES), spec
    return dict(zip(IDENTITIES, (codes[code] for code in outcomes), strict=True))


#: (endpoint, method) -> outcome per person.      anon o.buy o.art buyer artist support b+sup b+art
MATRIX: dict[tuple[str, str], dict[str, str] | None] = {
    ("mirette_returns.order_requests", "GET"):       row("N    N     N     A     N      N     A      A"),
    ("mirette_returns.order_line", "GET"):           row("N    N     N     A     N      N     A      A"),
    ("mirette_returns.return_form", "GET"):          row("N    N     N     A     N      N     A      A"),
    ("mirette_returns.refund_preview", "GET"):       row("N    N     N     A     N      N     A      A"),
    ("mirette_returns.submit_return", "POST"):       row("N    N     N     A     N      N     A      A"),
    ("mirette_returns.request_cancellation", "POST"): row("N   N     N     A     N      N     A      A"),
    ("mirette_returns.request_detail", "GET"):       row("N    N     N     A     A      A     A      A"),
    ("mirette_returns.request_news", "GET"):         row("N    N     N     A     A      A     A      A"),
    ("mirette_returns.post_message", "POST"):        row("N    N     N     A     A      A     A      A"),
    ("mirette_returns.photo", "GET"):                row("N    N     N     A     A      A     A      A"),
    ("mirette_returns.artist_inbox", "GET"):         row("F    F     A     F     A      F     F      A"),
    ("mirette_returns.support_list", "GET"):         row("F    F     F     F     F      A     A      F"),
    ("mirette_returns.support_insights", "GET"):     row("F    F     F     F     F      A     A      F"),
    ("mirette_returns.support_export", "GET"):       row("F    F     F     F     F      A     A      F"),
    ("mirette_returns.static", "GET"):               row("A    A     A     A     A      A     A      A"),
    # One row per step, below.
    ("mirette_returns.perform_action", "POST"):      None,
}

#: Steps on Camille's return, still "requested" (``refuse_order`` and
#: ``retry_refund``: on her cancellation, also "requested").
#:                                      anon o.buy o.art buyer artist support b+sup b+art
ACTIONS: dict[str, dict[str, str]] = {
    "accept":             row("N    N     N     F     A      A     F      F"),
    "decline":            row("N    N     N     F     A      A     F      F"),
    "withdraw":           row("N    N     N     A     F      F     A      A"),
    "ship_back":          row("N    N     N     F     F      F     F      F"),
    "receive":            row("N    N     N     F     F      F     F      F"),
    "convert_to_refund":  row("N    N     N     F     F      F     F      F"),
    "ship_replacement":   row("N    N     N     F     F      F     F      F"),
    "decide_refund":      row("N    N     N     F     F      F     F      F"),
    "initiate_refund":    row("N    N     N     F     F      F     F      F"),
    "confirm_refund":     row("N    N     N     F     F      F     F      F"),
    "refuse_order":       row("N    N     N     F     A      A     F      F"),
    "retry_refund":       row("N    N     N     F     F      F     F      F"),
    "escalate":           row("N    N     N     A     A      F     A      A"),
    "resolve_escalation": row("N    N     N     F     F      F     F      F"),
    # A step that does not exist at all.
    "pay_me_twice":       row("N    N     N     F     F      F     F      F"),
}
ON_CANCELLATION = {"refuse_order", "retry_refund"}
#: What each allowed step leads to on the world's requests.
EFFECTS = {"accept": "accepted", "decline": "declined", "withdraw": "withdrawn", "refuse_order": "order_refused",
           "escalate": "requested"}

UNKNOWN_ID = 2_147_000_000


@pytest.fixture(scope="module")
def shop(_schema, database_url, tmp_path_factory) -> Iterator[Flask]:
    """One app for the whole module (its templates compiled once); every
    test starts from a freshly seeded database (:func:`build_world`)."""
    with another_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                      "MIRETTE_RETURNS_PHOTO_DIR": str(tmp_path_factory.mktemp("photos"))}) as app:
        yield app


def grant(app: Flask, person: str) -> None:
    """Give Camille's account exactly what ``person`` holds besides being the buyer."""
    given = GRANTS.get(person, {})
    with app.app_context():
        camille = account(CAMILLE)
        camille.is_support = bool(given.get("is_support"))
        camille.artist_id = account(given["artist_of"]).artist_id if "artist_of" in given else None
        db.session.commit()
        db.session.remove()


def client_for(app: Flask, person: str):
    """A client signed in as ``person`` (Camille's account granted what it holds)."""
    grant(app, person)
    email = IDENTITIES[person]
    client = app.test_client()
    return login(client, email) if email else client


# --------------------------------------------------------------------------- #
# The route table and the matrix agree
# --------------------------------------------------------------------------- #


def plugin_routes(app: Flask) -> set[tuple[str, str, str]]:
    return {
        (rule.endpoint, method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("mirette_returns.")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    }


def test_every_route_is_in_the_matrix(app):
    # A fresh app of its own: a route is added to it below.
    routes = plugin_routes(app)
    for endpoint, method, path in sorted(routes):
        assert (endpoint, method) in MATRIX, f"route {method} {path} ({endpoint}) is not in the access matrix"
    served = {(endpoint, method) for endpoint, method, _path in routes}
    for key in MATRIX:
        assert key in served, f"the access matrix lists {key}, which the app no longer serves"
    for action in {transition.action for transition in workflow.TRANSITIONS}:
        assert action in ACTIONS, f"step {action!r} of the transition table is not in the access matrix"
    # A mounted blueprint with a new route fails the same way.
    app.view_functions["mirette_returns.added_later"] = lambda: "new"
    app.url_map.add(app.url_rule_class("/returns/added-later", endpoint="mirette_returns.added_later", methods=["GET"]))
    unlisted = [(e, m) for e, m, _p in plugin_routes(app) if (e, m) not in MATRIX]
    assert unlisted == [("mirette_returns.added_later", "GET")]


# --------------------------------------------------------------------------- #
# One probe per route (and per step): the URL, the form, the allowed effect
# --------------------------------------------------------------------------- #


@dataclass
class Probe:
    method: str
    url: str
    #: The URL of the same thing with an unknown id: a 404 must look like it.
    unknown_url: str | None
    form: dict[str, str] = field(default_factory=dict)
    #: Checks an allowed answer for ``person``: the page and the database.
    allowed: Callable[[Flask, World, str, object], None] | None = None
    #: Header set of the allowed call (some routes answer htmx only).
    allowed_headers: dict[str, str] = field(default_factory=dict)


def _count(app: Flask, model, *where) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
        db.session.remove()
        return found


def _page_shows(*words: str, element: str | None = None):
    def check(app, world, person, response):
        assert response.status_code == 200, (person, response.status_code)
        text = text_of(response)
        for word in words:
            assert word in text, (person, word)
        if element:
            assert parse(response).by_id(element) is not None, (person, element)
    return check


def _inbox(app, world, person, response):
    assert response.status_code == 200, (person, response.status_code)
    assert "MIR-1004" in text_of(response) if person in ("artist", "buyer_artist") else True


def _photo(app, world, person, response):
    assert response.status_code == 200 and response.mimetype == "image/jpeg", (person, response.status_code)
    assert response.data[:2] == b"\xff\xd8"


def _static(app, world, person, response):
    assert response.status_code == 200 and response.mimetype == "text/css"
    response.close()


def _export(app, world, person, response):
    assert response.status_code == 200 and response.mimetype == "text/csv", (person, response.status_code)
    assert "MIR-1004" in response.get_data(as_text=True)


def _news(app, world, person, response):
    assert response.status_code == 200, (person, response.status_code)
    assert parse(response).by_id("mr-timeline") is not None
    assert SECRET_MESSAGE in text_of(response)


def _submitted(app, world, person, response):
    assert response.status_code == 303, (person, response.status_code)
    with app.app_context():
        created = db.session.scalar(sa.select(Request).where(Request.comment == "From the matrix"))
        assert created is not None and created.buyer_ref is not None
        assert response.location.endswith(f"/returns/requests/{created.id}")
        db.session.remove()


def _cancelled(app, world, person, response):
    assert response.status_code == 303, (person, response.status_code)
    assert _count(app, Request, Request.kind == "cancellation", Request.order_ref == world.pending_order) == 1


def _messaged(app, world, person, response):
    assert response.status_code == 303, (person, response.status_code)
    role = ACTS_AS[person]
    assert _count(app, Message, Message.body == "From the matrix", Message.author_role == role) == 1


def _stepped(action: str):
    def check(app, world, person, response):
        assert response.status_code == 303, (person, action, response.status_code, text_of(response)[:300])
        target = world.cancel if action in ON_CANCELLATION else world.ret
        with app.app_context():
            request = db.session.get(Request, target)
            assert request.status == EFFECTS[action], (person, action, request.status)
            steps = db.session.scalars(sa.select(HistoryEntry).where(
                HistoryEntry.request_id == target, HistoryEntry.action == action)).all()
            assert [step.actor_role for step in steps] == [ACTS_AS[person]], (person, action)
            db.session.remove()
    return check


def probe(app: Flask, world: World, endpoint: str, action: str | None = None) -> Probe:
    with app.test_request_context():
        def url(name, **values):
            return url_for(f"mirette_returns.{name}", **values)

        order, line = world.order, world.line
        name = endpoint.split(".", 1)[1]
        if name == "order_requests":
            return Probe("GET", url(name, order_ref=order), url(name, order_ref="999999"),
                         allowed=_page_shows("Speckled mug", element="mr-order"))
        if name == "order_line":
            return Probe("GET", url(name, order_ref=order, line_ref=line), url(name, order_ref="999999", line_ref=line),
                         allowed=_page_shows("Speckled mug"), allowed_headers=HTMX)
        if name == "return_form":
            return Probe("GET", url(name, order_ref=order, line_ref=line),
                         url(name, order_ref="999999", line_ref=line),
                         allowed=_page_shows("Speckled mug", element=f"mr-return-{line}-preview"))
        if name == "refund_preview":
            return Probe("GET", url(name, order_ref=order, line_ref=line, quantity=1),
                         url(name, order_ref="999999", line_ref=line, quantity=1),
                         allowed=_page_shows("€"), allowed_headers=HTMX)
        if name == "submit_return":
            return Probe("POST", url(name, order_ref=order, line_ref=line),
                         url(name, order_ref="999999", line_ref=line),
                         form={"quantity": "1", "kind": "return", "reason_code": "changed_mind",
                               "comment": "From the matrix"}, allowed=_submitted)
        if name == "request_cancellation":
            return Probe("POST", url(name, order_ref=world.pending_order), url(name, order_ref="999999"),
                         form={"artist_ref": artist_ref(BOIS), "message": "From the matrix"}, allowed=_cancelled)
        if name == "request_detail":
            return Probe("GET", url(name, request_id=world.ret), url(name, request_id=UNKNOWN_ID),
                         allowed=_page_shows(SECRET_MESSAGE, "Speckled mug", "MIR-1004"))
        if name == "request_news":
            return Probe("GET", url(name, request_id=world.ret), url(name, request_id=UNKNOWN_ID),
                         allowed=_news, allowed_headers=HTMX)
        if name == "post_message":
            return Probe("POST", url(name, request_id=world.ret), url(name, request_id=UNKNOWN_ID),
                         form={"body": "From the matrix"}, allowed=_messaged)
        if name == "photo":
            return Probe("GET", url(name, photo_id=world.photo), url(name, photo_id=UNKNOWN_ID), allowed=_photo)
        if name == "artist_inbox":
            return Probe("GET", url(name), None, allowed=_inbox)
        if name == "support_list":
            return Probe("GET", url(name), None, allowed=_page_shows("MIR-1004", "MIR-1001"))
        if name == "support_insights":
            return Probe("GET", url(name), None, allowed=_page_shows("Speckled mug", element="mr-insights-summary"))
        if name == "support_export":
            return Probe("GET", url(name), None, allowed=_export)
        if name == "static":
            return Probe("GET", url(name, filename="mirette_returns/mirette-returns.css"), None, allowed=_static)
        if name == "perform_action":
            target, version = ((world.cancel, world.cancel_version) if action in ON_CANCELLATION
                               else (world.ret, world.ret_version))
            form = {"version": str(version), "note": "From the matrix", "tracking": "LP1", "confirm": "1"}
            return Probe("POST", url(name, request_id=target, action=action),
                         url(name, request_id=UNKNOWN_ID, action=action), form=form, allowed=_stepped(action))
    raise AssertionError(f"no probe for {endpoint}: add one with its row in MATRIX")


def call(client, probe_: Probe, url: str, headers: dict[str, str]):
    if probe_.method == "GET":
        return client.get(url, headers=headers)
    return client.post(url, data=probe_.form, headers=headers)


# --------------------------------------------------------------------------- #
# The matrix, route by route
# --------------------------------------------------------------------------- #


def matrix_cases() -> list[tuple[str, str | None, dict[str, str]]]:
    cases = []
    for (endpoint, _method), outcomes in MATRIX.items():
        if outcomes is None:
            cases.extend((endpoint, action, ACTIONS[action]) for action in ACTIONS)
        else:
            cases.append((endpoint, None, outcomes))
    return cases


@pytest.mark.parametrize(("endpoint", "action", "outcomes"), matrix_cases(),
                         ids=[f"{e.split('.')[1]}{'-' + a if a else ''}" for e, a, _o in matrix_cases()])
def test_route_as_each_person(shop, endpoint, action, outcomes):
    app = shop
    world = build_world(app)
    # Refusals first, all on the same world: none of them may change it.
    before = snapshot(app)
    for person, outcome in outcomes.items():
        if outcome == ALLOWED:
            continue
        client = client_for(app, person)
        this = probe(app, world, endpoint, action)
        for headers in ({}, HTMX):
            response = call(client, this, this.url, headers)
            assert str(response.status_code) == outcome, (person, this.method, this.url, headers,
                                                          response.status_code)
            text = text_of(response)
            assert text, "a refusal says why"
            if person in OUTSIDERS:
                leaked = [marker for marker in PRIVATE_MARKERS if marker in response.get_data(as_text=True)]
                assert not leaked, (person, this.url, leaked)
            if outcome == HIDDEN and this.unknown_url:
                unknown = call(client, this, this.unknown_url, headers)
                assert unknown.status_code == 404
                assert text == text_of(unknown), f"{person}: a hidden {this.url} must look like an unknown one"
    assert snapshot(app) == before, f"a refused {endpoint} {action or ''} changed something"
    # Then each allowed person, on a world of their own when the call changes it.
    for person, outcome in outcomes.items():
        if outcome != ALLOWED:
            continue
        this = probe(app, world, endpoint, action)
        if this.method == "POST":
            world = build_world(app)
            this = probe(app, world, endpoint, action)
        response = call(client_for(app, person), this, this.url, this.allowed_headers)
        if person in OUTSIDERS:
            leaked = [marker for marker in PRIVATE_MARKERS if marker in response.get_data(as_text=True)]
            assert not leaked, (person, this.url, leaked)
        this.allowed(app, world, person, response)


def test_outsiders_learn_nothing_from_ids_or_lists(shop):
    """Neighbouring ids, the lists and the poll reveal nothing to an outsider."""
    app = shop
    world = build_world(app)
    for person in OUTSIDERS:
        client = client_for(app, person)
        for path in (f"/returns/requests/{world.ret}/news?after=0", f"/returns/requests/{world.cancel}",
                     f"/returns/photos/{world.photo}?size=thumb", "/returns/artist/inbox?status=requested",
                     "/returns/support/requests?q=MIR-1004"):
            body = client.get(path, headers=HTMX).get_data(as_text=True)
            assert not [m for m in PRIVATE_MARKERS if m in body], (person, path)
