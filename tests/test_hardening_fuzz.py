"""Hostile input on every form, query and route of the plugin and the demo shop.

Hypothesis drives each endpoint with random and hostile values: huge
strings, control characters, wrong types, negative and huge numbers,
unknown ids, duplicated fields, wrong content types and broken multipart
bodies. Whatever arrives:

- the answer is never a server error (the app propagates exceptions in
  tests, so one would fail the example with its traceback);
- a refused input changes nothing in the database nor in the photo files;
- what a successful post saved is exactly what was sent, within the rules
  (a quantity that was bought, a reason of the catalogue, a text within its
  length, no control character that the database cannot keep).

The budget is fixed (``max_examples`` per endpoint, ``derandomize=True``, no
example database), so a run takes about a minute and a half on SQLite and
repeats itself exactly. The number of cases run per endpoint is printed at the end.

``MIRETTE_FUZZ_EXAMPLES`` sets another budget: the total number of examples,
shared between the endpoints in the same proportions (``make fuzz`` runs
10,000 that way, outside CI). With ``MIRETTE_FUZZ_REPORT`` (a file name) the
run is a campaign: a failing example is recorded (input, traceback) and the
search goes on, and the counts (cases, 5xx, refused inputs that changed
something) are written to that file as JSON; ``scripts/fuzz.py`` reads it.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
import os
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from hypothesis import HealthCheck, example, given, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from werkzeug.datastructures import MultiDict

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import HistoryEntry, Message, Photo, Request
from tests import hardening
from tests.hardening import BASE_CONFIG, World, account_id, build_world, jpeg, show, visitor
from tests.pagekit import HTMX, another_app, text_of
from tests.shop import ALEX, BOIS, CAMILLE, LUNE, SUPPORT, login, user
from tests.test_hardening_access_matrix import IDENTITIES, grant

#: Examples per endpoint, the short run of the test suite: about a minute
#: and a half for the whole module on SQLite. ``every_route`` is per route.
BUDGET = {
    "submit_return": 140,
    "request_cancellation": 90,
    "post_message": 110,
    "perform_action": 120,
    "refund_preview": 50,
    "lists": 70,
    "request_news": 40,
    "photo": 30,
    "demo_switch": 40,
    "demo_language": 60,
    "every_route": 8,
}
CASES: Counter[str] = Counter()
#: Cases per route and person of :func:`test_every_route_as_every_person`.
ROUTE_CASES: Counter[str] = Counter()
#: Cases answered with a 4xx: each was checked to have changed nothing.
REFUSED: Counter[str] = Counter()
#: The endpoints that take a form (the others are queries, which change nothing).
FORMS = {"submit_return", "request_cancellation", "post_message", "perform_action", "demo_switch", "demo_language",
         "every_route"}
#: Of those, the ones the app accepted (a post that saved something, checked
#: against what was sent; a language switch that redirected).
SAVED: Counter[str] = Counter()


#: (endpoint, method) of every route the app serves, read from its route table.
ROUTE_TABLE: list[tuple[str, str]] = []
#: The campaign's report file; when set, failing examples are recorded and the search goes on.
REPORT = os.environ.get("MIRETTE_FUZZ_REPORT", "")
#: The database under test, for the report.
DATABASE: list[str] = ["?"]
#: The endpoint whose example is running.
CURRENT: list[str] = []
#: What the campaign found: one entry per failing example.
FINDINGS: list[dict[str, str]] = []


def examples(name: str, routes: int) -> int:
    """The budget of ``name``: today's, or its share of ``MIRETTE_FUZZ_EXAMPLES``."""
    wanted = os.environ.get("MIRETTE_FUZZ_EXAMPLES", "").strip()
    if not wanted:
        return BUDGET[name]
    if not wanted.isdigit() or int(wanted) < 1:
        raise pytest.UsageError(f"MIRETTE_FUZZ_EXAMPLES must be a positive whole number, not {wanted!r}")
    today = sum(BUDGET.values()) - BUDGET["every_route"] + BUDGET["every_route"] * routes
    return max(1, round(BUDGET[name] * int(wanted) / today))


def fuzz(name: str):
    return settings(
        max_examples=examples(name, len(ROUTE_TABLE)),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


class ServerError(AssertionError):
    """The app answered 5xx."""


class ChangedWhenRefused(AssertionError):
    """A refused input changed the database or the stored photos."""


def counted(name: str) -> Callable:
    """Counts each example of ``name``; in a campaign, records a failing one
    (its input and traceback) instead of stopping the search."""
    def decorate(attempt: Callable) -> Callable:
        signature = inspect.signature(attempt)

        @functools.wraps(attempt)
        def run(*args, **kwargs):
            CASES[name] += 1
            CURRENT.append(name)
            try:
                attempt(*args, **kwargs)
            except Exception as error:
                inputs = dict(signature.bind(*args, **kwargs).arguments)
                FINDINGS.append({"endpoint": name, "kind": kind_of(error), "input": repr(inputs)[:4000],
                                 "traceback": traceback.format_exc()})
                if not REPORT:
                    raise
            finally:
                CURRENT.pop()
                # Written as it goes, so that a campaign stopped early still tells what it ran.
                if REPORT and sum(CASES.values()) % 100 == 0:
                    write_report(REPORT)
        run.__signature__ = signature
        return run
    return decorate


def kind_of(error: Exception) -> str:
    if isinstance(error, ChangedWhenRefused):
        return "changed when refused"
    # Any other exception came out of the app: the test client propagates
    # what would have been a 500 page.
    if isinstance(error, ServerError) or not isinstance(error, AssertionError):
        return "5xx"
    return "other failure"


def write_report(path: str, *, finished: bool = False) -> None:
    kinds = Counter(finding["kind"] for finding in FINDINGS)
    Path(path).write_text(json.dumps({
        "database": DATABASE[0], "finished": finished, "cases": sum(CASES.values()), "per_endpoint": dict(CASES),
        "per_route": dict(ROUTE_CASES), "refused": sum(REFUSED.values()), "accepted": sum(SAVED.values()),
        "server_errors": kinds["5xx"], "changed_when_refused": kinds["changed when refused"],
        "other_failures": kinds["other failure"], "findings": FINDINGS,
    }, indent=2), encoding="utf-8")


@pytest.fixture(scope="module")
def shop(_schema, database_url, tmp_path_factory, request) -> Iterator[Flask]:
    config = {**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
              "MIRETTE_RETURNS_PHOTO_DIR": str(tmp_path_factory.mktemp("photos"))}
    # No example database, and Hypothesis's own caches in a temporary folder:
    # nothing is written into the repository.
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    try:
        with another_app(config) as app:
            ROUTE_TABLE[:] = app_routes(app)
            DATABASE[:] = [app_database(database_url)]
            yield app
    finally:
        set_hypothesis_home_dir(None)
    lines = [f"  {name:<22} {count:>5} cases" + (f", {SAVED[name]:>4} accepted" if name in FORMS else "")
             for name, count in sorted(CASES.items())]
    show(request.config, ["", f"Fuzzing ({app_database(database_url)}): cases run per endpoint; no 5xx, "
                              "refused ones changed nothing, accepted ones saved exactly what was sent", *lines,
                          f"  {'total':<22} {sum(CASES.values()):>5} cases, {sum(SAVED.values()):>4} accepted, "
                          f"{sum(REFUSED.values()):>4} refused"])
    if REPORT:
        write_report(REPORT, finished=True)


def app_routes(app: Flask) -> list[tuple[str, str]]:
    """Every route of the app: the plugin's, the demo shop's and the static files."""
    return sorted({(rule.endpoint, method) for rule in app.url_map.iter_rules()
                   for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}})


def snapshot(app: Flask) -> tuple:
    """The database (:func:`tests.hardening.snapshot`) and the photo files stored."""
    folder = Path(app.config["MIRETTE_RETURNS_PHOTO_DIR"])
    return hardening.snapshot(app), sum(1 for item in folder.rglob("*") if item.is_file())


def app_database(url: str) -> str:
    name = url.split(":", 1)[0].split("+", 1)[0]
    return "mariadb" if name == "mysql" else name


# --------------------------------------------------------------------------- #
# Hostile values
# --------------------------------------------------------------------------- #

HOSTILE_TEXTS = [
    "", " ", "\t", "\r\n", "\x00", "a\x00b", "\x1b[31mred", "\x7f", "\u202egnp.exe", "\ufeff", "\u200b",
    "A" * 100_000, "é" * 5001, "😀" * 2600, "x" * 5000, " " * 6000,
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "{{ 7*7 }}", "{% raw %}", "%s%n%x",
    "' OR 1=1 --", "'; DROP TABLE mirette_returns_request; --", "../../etc/passwd", "file:///etc/passwd",
    "null", "None", "true", "[]", "{}", "NaN", "inf", "-inf",
    "-1", "0", "1", "2", "3", "4", "5", " 1 ", "+1", "1.0", "1e3", "0x10", "1_000", "١", "²", "𝟙", "１",
    "2147483647", "2147483648", "9223372036854775808", "-9223372036854775809", "9" * 60,
]
SAFE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
TEXT = st.one_of(st.sampled_from(HOSTILE_TEXTS), SAFE_TEXT)
#: Field names a broken client may send: in a multipart body a lone CR or LF
#: leaves the field with no name at all once parsed.
HOSTILE_NAMES = ["\r", "\n", "\r\n", "", "\x00", "body\x00", " ", "n" * 10_000]
NAME = st.one_of(st.sampled_from(HOSTILE_NAMES), SAFE_TEXT)
NUMBER = st.one_of(st.integers(-(2**70), 2**70).map(str), st.integers(-3, 8).map(str), TEXT)
ID = st.one_of(st.integers(0, 40), st.sampled_from([2**31 - 1, 2**31, 2**63, 2**70, 10**30]))
ENCODINGS = st.sampled_from(["urlencoded", "multipart", "urlencoded", "multipart", "json", "text",
                             "broken_multipart", "empty"])


def fields(names: dict[str, st.SearchStrategy], valid: dict[str, str] | None = None
           ) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Form fields: either a valid form with one or two fields made hostile,
    or some of ``names`` with any values, sometimes twice, with stray fields."""
    one = st.tuples(*(st.tuples(st.just(name), st.one_of(values, TEXT)) for name, values in names.items()))
    stray = st.lists(st.tuples(st.one_of(st.sampled_from(list(names)), NAME), TEXT), max_size=3)
    keep = st.lists(st.booleans(), min_size=len(names), max_size=len(names))
    anything = st.builds(
        lambda pairs, kept, extra: [pair for pair, k in zip(pairs, kept, strict=False) if k] + extra, one, keep, stray)
    if not valid:
        return anything
    spoiled = st.dictionaries(st.sampled_from(list(names)), st.one_of(*names.values(), TEXT), max_size=2)
    almost = st.builds(lambda changes: list({**valid, **changes}.items()), spoiled)
    return st.one_of(almost, anything)


def uploads() -> st.SearchStrategy[list[tuple[bytes, str]]]:
    content = st.one_of(st.binary(max_size=512), st.just(jpeg()), st.just(b"GIF89a" + b"\x00" * 20),
                        st.just(jpeg()[:40]))
    return st.one_of(st.just([]), st.lists(st.tuples(content, st.one_of(st.just("photo.jpg"), SAFE_TEXT)),
                                           max_size=7))


def post(client, url: str, pairs: list[tuple[str, str]], encoding: str, *, files=(), htmx: bool = False):
    """Post ``pairs`` the way ``encoding`` says, as a broken client might."""
    headers = dict(HTMX) if htmx else {}
    if encoding == "urlencoded":
        return client.post(url, data=MultiDict(pairs), headers=headers)
    if encoding == "multipart":
        data = MultiDict(pairs)
        for content, name in files:
            data.add("photos", (io.BytesIO(content), name))
        return client.post(url, data=data, headers=headers, content_type="multipart/form-data")
    if encoding == "json":
        return client.post(url, data=json.dumps(dict(pairs)), headers=headers, content_type="application/json")
    if encoding == "text":
        return client.post(url, data="\n".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "replace"),
                           headers=headers, content_type="text/plain")
    if encoding == "broken_multipart":
        body = b"--frontier\r\nContent-Disposition: form-data; name=\"quantity\"\r\n\r\n1\r\n--front"
        return client.post(url, data=body, headers=headers, content_type="multipart/form-data; boundary=frontier")
    return client.post(url, headers=headers)


def sent(pairs: list[tuple[str, str]], encoding: str) -> dict[str, str]:
    """What the app reads from the form: the first value of each name."""
    if encoding not in ("urlencoded", "multipart"):
        return {}
    values: dict[str, str] = {}
    for name, value in pairs:
        values.setdefault(name, value)
    return values


def no_server_error(response) -> None:
    if response.status_code >= 500:
        raise ServerError(f"answered {response.status_code}")


def unchanged_when_refused(app: Flask, before) -> None:
    REFUSED[CURRENT[-1]] += 1
    if snapshot(app) != before:
        raise ChangedWhenRefused("a refused input changed something")


def refused_cleanly(app: Flask, response, before) -> None:
    no_server_error(response)
    assert 400 <= response.status_code < 500, response.status_code
    unchanged_when_refused(app, before)
    assert text_of(response) or response.status_code == 404, "a refusal says why"


def replayed(app: Flask, response, before, form: dict[str, str]) -> bool:
    """A success that changed nothing: the form's token had already made its
    request(s), which the answer points to (a double click, a retry)."""
    if response.status_code not in (200, 303) or snapshot(app) != before:
        return False
    token = workflow.clean_token(form.get("submission_token"))
    assert token, "a post succeeded without saving anything and without a known token"
    with app.app_context():
        known = db.session.scalar(sa.select(sa.func.count()).select_from(Request).where(
            sa.or_(Request.submission_token == token, Request.submission_token.like(f"{token}:%"))))
        db.session.remove()
    assert known, "a post succeeded without saving anything"
    return True


def is_clean_text(value: str | None, most: int) -> bool:
    return value is None or ("\x00" not in value and len(value) <= most and value == value.strip())


def client_for(app: Flask, email: str | None):
    client = app.test_client()
    return login(client, email) if email else client


def fresh_world(app: Flask, holder: dict) -> World:
    if "world" not in holder:
        holder["world"] = build_world(app)
    return holder["world"]


# --------------------------------------------------------------------------- #
# The campaign's count
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("campaign", [True, False])
def test_a_campaign_records_each_failing_example_and_searches_on(monkeypatch, tmp_path, campaign):
    this = sys.modules[__name__]
    findings: list[dict[str, str]] = []
    for name, value in (("REPORT", str(tmp_path / "report.json") if campaign else ""), ("FINDINGS", findings),
                        ("CASES", Counter()), ("REFUSED", Counter()), ("CURRENT", [])):
        monkeypatch.setattr(this, name, value)

    @counted("probe")
    def attempt(outcome: str) -> None:
        if outcome == "5xx answer":
            raise ServerError("answered 503")
        if outcome == "crash":
            raise LookupError("what a 500 page would have hidden")
        if outcome == "changed":
            raise ChangedWhenRefused("a refused input changed something")
        assert outcome == "fine", "an accepted post saved something else"

    outcomes = ["fine", "5xx answer", "crash", "changed", "wrong"]
    for outcome in outcomes:
        if campaign:
            attempt(outcome)
        else:
            with pytest.raises(Exception) if outcome != "fine" else nullcontext():
                attempt(outcome)
    assert this.CASES["probe"] == len(outcomes)
    if not campaign:
        assert findings and not this.CURRENT
        return
    assert [(f["kind"], f["input"]) for f in findings] == [
        ("5xx", "{'outcome': '5xx answer'}"), ("5xx", "{'outcome': 'crash'}"),
        ("changed when refused", "{'outcome': 'changed'}"), ("other failure", "{'outcome': 'wrong'}")]
    assert "LookupError: what a 500 page would have hidden" in findings[1]["traceback"]
    write_report(this.REPORT, finished=True)
    report = json.loads(Path(this.REPORT).read_text(encoding="utf-8"))
    assert (report["cases"], report["server_errors"], report["changed_when_refused"], report["other_failures"]) \
        == (5, 2, 1, 1)


# --------------------------------------------------------------------------- #
# A field without a readable name, on every form of the plugin
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", ["\r", "\n", "\r\n"])
def test_a_nameless_multipart_field_is_refused_on_every_form(shop, name):
    world = build_world(shop)
    forms = [
        (CAMILLE, f"/returns/orders/{world.order}/lines/{world.line}/return", VALID_RETURN),
        (CAMILLE, f"/returns/orders/{world.pending_order}/cancel", VALID_CANCEL),
        (CAMILLE, f"/returns/requests/{world.ret}/messages", {"body": "Hello"}),
        (LUNE, f"/returns/requests/{world.ret}/actions/accept", {"version": str(world.ret_version)}),
    ]
    for email, url, form in forms:
        for htmx in (False, True):
            before = snapshot(shop)
            response = post(visitor(shop, email), url, [*form.items(), (name, "x")], "multipart", htmx=htmx)
            assert response.status_code == 400, (url, response.status_code)
            assert "What you sent has a field without a readable name" in text_of(response)
            assert snapshot(shop) == before
    # The same forms with ordinary names are accepted: the name was the only fault.
    response = post(client_for(shop, CAMILLE), f"/returns/requests/{world.ret}/messages",
                    [("body", "Hello"), ("extra", "x")], "multipart")
    assert response.status_code == 303


# --------------------------------------------------------------------------- #
# The buyer's forms
# --------------------------------------------------------------------------- #

VALID_RETURN = {"quantity": "1", "kind": "return", "reason_code": "changed_mind", "comment": "Too small"}
RETURN_FIELDS = {
    "quantity": NUMBER,
    "kind": st.sampled_from(["return", "exchange", "cancellation", "RETURN", ""]),
    "reason_code": st.sampled_from(["changed_mind", "damaged", "wrong_size", "other", "nope", ""]),
    "comment": TEXT,
    "wanted_ref": TEXT,
    "wanted_text": TEXT,
    "submission_token": st.one_of(st.text("abcdef0123456789", min_size=8, max_size=48), TEXT),
}


def test_submit_return(shop):
    app, holder = shop, {}

    @fuzz("submit_return")
    @example(pairs=[*VALID_RETURN.items(), ("comment", "a\x00b")], encoding="urlencoded", files=[], htmx=False,
             line=None)
    @example(pairs=[*VALID_RETURN.items(), ("quantity", str(2**63))], encoding="multipart", files=[], htmx=True,
             line=str(2**70))
    @given(pairs=fields(RETURN_FIELDS, VALID_RETURN), encoding=ENCODINGS, files=uploads(), htmx=st.booleans(),
           line=st.one_of(st.none(), TEXT.filter(lambda t: "/" not in t and t.strip() == t and t)))
    @counted("submit_return")
    def attempt(pairs, encoding, files, htmx, line):
        world = fresh_world(app, holder)
        url = f"/returns/orders/{world.order}/lines/{line or world.line}/return"
        before = snapshot(app)
        response = post(client_for(app, CAMILLE), url, pairs, encoding, files=files, htmx=htmx)
        if replayed(app, response, before, sent(pairs, encoding)):
            return
        if response.status_code in (200, 303) and snapshot(app) != before:
            check_saved_return(app, world, sent(pairs, encoding))
            SAVED["submit_return"] += 1
        else:
            refused_cleanly(app, response, before)

    attempt()


def check_saved_return(app: Flask, world: World, form: dict[str, str]) -> None:
    with app.test_request_context():
        created = db.session.scalars(sa.select(Request).order_by(Request.id.desc())).first()
        assert created.line_ref == world.line and created.kind in ("return", "exchange")
        assert created.quantity == int(form["quantity"].strip()) and 1 <= created.quantity <= 4
        assert created.reason_code == form["reason_code"].strip()
        comment = (form.get("comment") or "").strip()
        assert (created.comment or "") == comment and is_clean_text(created.comment, 5000)
        assert is_clean_text(created.wanted_label, 255)
        photos = db.session.scalar(sa.select(sa.func.count()).select_from(Photo).where(Photo.request_id == created.id))
        assert photos <= 5
        history = db.session.scalars(sa.select(HistoryEntry).where(HistoryEntry.request_id == created.id)).all()
        assert [(h.action, h.actor_role) for h in history] == [("submit", "buyer")]
        # Free the units again, so that later examples may succeed too.
        workflow.perform(user(CAMILLE), created.id, "withdraw")
        db.session.remove()


VALID_CANCEL = {"scope": "all", "message": "Ordered twice", "contact_email": "camille@buyers.example"}
CANCEL_FIELDS = {
    "scope": st.sampled_from(["all", "ALL", "", "one"]),
    "artist_ref": st.one_of(st.sampled_from(["1", "2", "3", "999999"]), TEXT),
    "message": TEXT,
    "contact_email": st.one_of(st.just("camille@buyers.example"), st.emails(), TEXT),
    "submission_token": st.one_of(st.text("abcdef0123456789", min_size=8, max_size=48), TEXT),
}


def test_request_cancellation(shop):
    app, holder = shop, {}

    @fuzz("request_cancellation")
    @example(pairs=[*VALID_CANCEL.items(), ("message", "\x00")], encoding="urlencoded", htmx=False, order=None)
    @example(pairs=[*VALID_CANCEL.items(), ("artist_ref", str(2**63))], encoding="urlencoded", htmx=False,
             order=str(2**70))
    @given(pairs=fields(CANCEL_FIELDS, VALID_CANCEL), encoding=ENCODINGS, htmx=st.booleans(),
           order=st.one_of(st.none(), st.sampled_from(["999999", "abc", "-1", "0"])))
    @counted("request_cancellation")
    def attempt(pairs, encoding, htmx, order):
        world = fresh_world(app, holder)
        before = snapshot(app)
        with app.app_context():
            known = set(db.session.scalars(sa.select(Request.id)))
        response = post(client_for(app, CAMILLE), f"/returns/orders/{order or world.pending_order}/cancel", pairs,
                        encoding, htmx=htmx)
        if replayed(app, response, before, sent(pairs, encoding)):
            return
        if response.status_code in (200, 303) and snapshot(app) != before:
            check_saved_cancellations(app, world, sent(pairs, encoding), known)
            SAVED["request_cancellation"] += 1
        else:
            refused_cleanly(app, response, before)

    attempt()


def check_saved_cancellations(app: Flask, world: World, form: dict[str, str], known: set[int]) -> None:
    with app.test_request_context():
        created = db.session.scalars(sa.select(Request).where(Request.id.not_in(known))).all()
        assert created and all(r.kind == "cancellation" and r.order_ref == world.pending_order for r in created)
        message = form["message"].strip()
        for request in created:
            bodies = db.session.scalars(sa.select(Message.body).where(Message.request_id == request.id)).all()
            assert bodies == [message] and is_clean_text(message, 5000)
            assert "@" in request.buyer_email and len(request.buyer_email) <= 254
            workflow.perform(user(CAMILLE), request.id, "withdraw")
        db.session.remove()


# --------------------------------------------------------------------------- #
# The details page: messages and steps
# --------------------------------------------------------------------------- #


def test_post_message(shop):
    app, holder = shop, {}

    @fuzz("post_message")
    @example(pairs=[("body", "a\x00b")], encoding="urlencoded", files=[], htmx=False, request_id=None, who=CAMILLE)
    @example(pairs=[("body", "Hi"), ("\r", "x")], encoding="multipart", files=[], htmx=False, request_id=None,
             who=CAMILLE)
    @example(pairs=[("body", "Hi"), ("\n", "x")], encoding="multipart", files=[], htmx=True, request_id=None,
             who=LUNE)
    @example(pairs=[("body", "Hi")], encoding="urlencoded", files=[], htmx=False, request_id=2**31, who=CAMILLE)
    @example(pairs=[("body", "Hi")], encoding="urlencoded", files=[], htmx=False, request_id=2**63, who=CAMILLE)
    @given(pairs=fields({"body": TEXT}, {"body": "Hello"}), encoding=ENCODINGS, files=uploads(), htmx=st.booleans(),
           request_id=st.one_of(st.none(), ID), who=st.sampled_from([CAMILLE, LUNE, SUPPORT, ALEX, None]))
    @counted("post_message")
    def attempt(pairs, encoding, files, htmx, request_id, who):
        world = fresh_world(app, holder)
        target = request_id if request_id is not None else world.ret
        before = snapshot(app)
        with app.app_context():
            last = db.session.scalar(sa.select(sa.func.max(Message.id))) or 0
        response = post(client_for(app, who), f"/returns/requests/{target}/messages", pairs, encoding,
                        files=files, htmx=htmx)
        if response.status_code in (200, 303) and snapshot(app) != before:
            assert who in (CAMILLE, LUNE, SUPPORT) and target in (world.ret, world.cancel)
            SAVED["post_message"] += 1
            with app.app_context():
                [message] = db.session.scalars(sa.select(Message).where(Message.id > last)).all()
                body = sent(pairs, encoding).get("body", "").strip()
                assert message.body == body and is_clean_text(message.body, 5000)
                photos = db.session.scalars(sa.select(Photo).where(Photo.message_id == message.id)).all()
                assert len(photos) <= 5 and all(p.width > 0 and p.content_type.startswith("image/") for p in photos)
                assert body or photos
                db.session.remove()
        else:
            refused_cleanly(app, response, before)

    attempt()


ACTION_NAMES = sorted({t.action for t in workflow.TRANSITIONS})


def test_perform_action(shop):
    app, holder = shop, {}

    @fuzz("perform_action")
    @example(action="accept", pairs=[("version", "__current__"), ("note", "a\x00b")], encoding="urlencoded",
             htmx=False, who=LUNE, request_id=None)
    @example(action="accept", pairs=[("version", str(2**63)), ("note", "ok")], encoding="urlencoded",
             htmx=False, who=LUNE, request_id=2**63)
    # A step on the cancellation is checked against the cancellation's own steps.
    @example(action="decline", pairs=[("version", "__current__"), ("note", "Already shipped"), ("confirm", "1")],
             encoding="urlencoded", htmx=False, who=LUNE, request_id="cancel")
    @given(action=st.one_of(st.sampled_from(["accept", "decline", "escalate"]), st.sampled_from(ACTION_NAMES),
                            TEXT.filter(lambda t: t and "/" not in t and t == t.strip())),
           pairs=fields({"version": st.one_of(st.sampled_from(["__current__", "1", "2"]), NUMBER),
                         "note": TEXT, "tracking": TEXT, "confirm": st.sampled_from(["1", "on", ""])},
                        {"version": "__current__", "note": "Send it back", "confirm": "1"}),
           encoding=ENCODINGS, htmx=st.booleans(), who=st.sampled_from([LUNE, LUNE, CAMILLE, SUPPORT, BOIS]),
           request_id=st.one_of(st.none(), st.just("cancel"), ID))
    @counted("perform_action")
    def attempt(action, pairs, encoding, htmx, who, request_id):
        world = fresh_world(app, holder)
        target = {None: world.ret, "cancel": world.cancel}.get(request_id, request_id)
        with app.app_context():
            # The version of the request in the URL; of the return for an id of no request of the world.
            current = db.session.get(Request, world.cancel if target == world.cancel else world.ret).version
            db.session.remove()
        pairs = [(k, str(current) if v == "__current__" else v) for k, v in pairs]
        before = snapshot(app)
        with app.app_context():
            last = db.session.scalar(sa.select(sa.func.max(HistoryEntry.id))) or 0
        response = post(client_for(app, who), f"/returns/requests/{target}/actions/{action}", pairs, encoding,
                        htmx=htmx)
        if response.status_code in (200, 303) and snapshot(app) != before:
            form = sent(pairs, encoding)
            SAVED["perform_action"] += 1
            with app.app_context():
                steps = db.session.scalars(sa.select(HistoryEntry).where(HistoryEntry.id > last)).all()
                # A generated id may be the world's cancellation: its steps are the cancellation's.
                assert target in (world.ret, world.cancel)
                assert steps and steps[0].action == action and steps[0].request_id == target
                transition = workflow.find_transition(db.session.get(Request, target).kind, action)
                assert transition is not None and steps[0].actor_role in transition.roles
                note = (form.get("note") or "").strip()
                if any(f.name == "note" for f in transition.fields):
                    assert (steps[0].note or "") == note and is_clean_text(steps[0].note, 5000)
                tracking = db.session.get(Request, target).return_tracking
                assert is_clean_text(tracking, 255)
                db.session.remove()
            holder.pop("world")  # the next example starts from a request not yet answered
        else:
            refused_cleanly(app, response, before)

    attempt()


# --------------------------------------------------------------------------- #
# Queries: previews, lists, the poll, photos
# --------------------------------------------------------------------------- #

CURSOR = st.builds(
    lambda moment, offset, ident: f"{moment.replace(tzinfo=timezone(offset)).isoformat()}~{ident}",
    st.one_of(st.datetimes(), st.sampled_from([datetime.min, datetime.max])),
    st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)),
    st.one_of(st.integers(-5, 50), st.integers(-(2**70), 2**70), st.sampled_from([2**31, 2**63, 2**70])),
)


def query_of(pairs: list[tuple[str, str]]) -> MultiDict:
    return MultiDict(pairs)


def unchanged_get(app: Flask, client, url: str, pairs, htmx: bool):
    before = snapshot(app)
    response = client.get(url, query_string=query_of(pairs), headers=HTMX if htmx else {})
    no_server_error(response)
    if response.status_code >= 400:
        unchanged_when_refused(app, before)
    assert snapshot(app) == before, "a GET changed something"
    return response


def test_refund_preview(shop):
    app, holder = shop, {}

    @fuzz("refund_preview")
    @given(pairs=fields({"quantity": NUMBER}, {"quantity": "1"}), htmx=st.booleans())
    @counted("refund_preview")
    def attempt(pairs, htmx):
        world = fresh_world(app, holder)
        unchanged_get(app, client_for(app, CAMILLE), f"/returns/orders/{world.order}/lines/{world.line}/preview",
                      pairs, htmx)

    attempt()


def test_lists(shop):
    app, holder = shop, {}

    @fuzz("lists")
    @example(pairs=[("after", f"2000-01-01T00:00:00+00:00~{2**31}")], htmx=False, who=(LUNE, "/returns/artist/inbox"))
    @example(pairs=[("after", f"2000-01-01T00:00:00+00:00~{2**63}")], htmx=False, who=(LUNE, "/returns/artist/inbox"))
    @example(pairs=[("after", "0001-01-01T00:00:00+05:00~1")], htmx=False, who=(SUPPORT, "/returns/support/requests"))
    @example(pairs=[("after", "9999-12-31T23:59:59-05:00~1")], htmx=True, who=(SUPPORT, "/returns/support/requests"))
    @given(pairs=fields({"status": st.sampled_from(["requested", "accepted", "", "x"]),
                         "kind": st.sampled_from(["return", "exchange", "cancellation", ""]),
                         "artist": st.sampled_from(["1", "2", ""]), "escalated": st.sampled_from(["1", "0", ""]),
                         "after": CURSOR}),
           htmx=st.booleans(), who=st.sampled_from([(LUNE, "/returns/artist/inbox"),
                                                     (SUPPORT, "/returns/support/requests")]))
    @counted("lists")
    def attempt(pairs, htmx, who):
        fresh_world(app, holder)
        email, url = who
        response = unchanged_get(app, client_for(app, email), url, pairs, htmx)
        if any("\x00" in name + value for name, value in pairs):
            assert response.status_code == 400 and "(NUL)" in text_of(response)
        else:
            assert response.status_code == 200

    attempt()


def test_request_news(shop):
    app, holder = shop, {}

    @fuzz("request_news")
    @example(pairs=[("after", str(2**63))], htmx=True, request_id=2**63, who=CAMILLE)
    @given(pairs=fields({"after": NUMBER, "actions": TEXT}), htmx=st.booleans(), request_id=st.one_of(st.none(), ID),
           who=st.sampled_from([CAMILLE, LUNE, ALEX, None]))
    @counted("request_news")
    def attempt(pairs, htmx, request_id, who):
        world = fresh_world(app, holder)
        target = request_id if request_id is not None else world.ret
        unchanged_get(app, client_for(app, who), f"/returns/requests/{target}/news", pairs, htmx)

    attempt()


def test_photo(shop):
    app, holder = shop, {}

    @fuzz("photo")
    @example(pairs=[], photo_id=2**63, who=CAMILLE)
    @given(pairs=fields({"size": st.sampled_from(["thumb", "full", ""])}), photo_id=st.one_of(st.none(), ID),
           who=st.sampled_from([CAMILLE, LUNE, ALEX, None]))
    @counted("photo")
    def attempt(pairs, photo_id, who):
        world = fresh_world(app, holder)
        target = photo_id if photo_id is not None else world.photo
        response = unchanged_get(app, client_for(app, who), f"/returns/photos/{target}", pairs, False)
        if response.status_code == 200:
            assert who in (CAMILLE, LUNE) and response.mimetype.startswith("image/")

    attempt()


# --------------------------------------------------------------------------- #
# The demo shop's own forms
# --------------------------------------------------------------------------- #


def test_demo_switch(shop):
    app, holder = shop, {}

    @fuzz("demo_switch")
    @example(pairs=[("account_id", str(2**31))], encoding="urlencoded")
    @example(pairs=[("account_id", str(2**63))], encoding="urlencoded")
    @given(pairs=fields({"account_id": st.one_of(ID.map(str), NUMBER)}, {"account_id": "__camille__"}),
           encoding=ENCODINGS)
    @counted("demo_switch")
    def attempt(pairs, encoding):
        fresh_world(app, holder)
        camille = str(account_id(app, CAMILLE))
        pairs = [(name, camille if value == "__camille__" else value) for name, value in pairs]
        client = app.test_client()
        before = snapshot(app)
        response = post(client, "/switch", pairs, encoding)
        # 413: more than any of the demo's forms sends (demo/guards.py).
        no_server_error(response)
        assert response.status_code in (303, 400, 413), response.status_code
        if response.status_code >= 400:
            unchanged_when_refused(app, before)
        assert snapshot(app) == before
        with client.session_transaction() as session:
            signed_in = session.get("account_id")
        assert (signed_in is not None) == (response.status_code == 303)
        SAVED["demo_switch"] += signed_in is not None

    attempt()


NEXT = st.one_of(
    st.sampled_from(["/orders", "/", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
                     "https://evil.example", "http:evil.example", "javascript:alert(1)", "/\t/evil.example",
                     "/\n/evil.example", " //evil.example", "\x00//evil.example", "/%2F%2Fevil.example",
                     "data:text/html,hi", "evil.example", "//", "/returns/artist/inbox?x=1#y"]),
    TEXT,
)


def test_demo_language(shop):
    app, holder = shop, {}

    @fuzz("demo_language")
    @example(pairs=[("locale", "fr"), ("next", "/\t/evil.example")], encoding="urlencoded")
    @given(pairs=fields({"locale": st.sampled_from(["en", "fr", "de", ""]), "next": NEXT},
                        {"locale": "fr", "next": "/orders"}), encoding=ENCODINGS)
    @counted("demo_language")
    def attempt(pairs, encoding):
        fresh_world(app, holder)
        before = snapshot(app)
        response = post(app.test_client(), "/language", pairs, encoding)
        no_server_error(response)
        assert response.status_code in (303, 400, 413), response.status_code
        if response.status_code >= 400:
            unchanged_when_refused(app, before)
        if response.status_code == 303:
            SAVED["demo_language"] += 1
            location = response.headers["Location"]
            assert location.startswith("/") and not location.startswith(("//", "/\\")), location
            assert not any(c in location for c in "\t\r\n\x00\\"), location

    attempt()


# --------------------------------------------------------------------------- #
# Every route of the app, as every person
# --------------------------------------------------------------------------- #


class Mine(str):
    """A value of the world (an attribute of :class:`World`), read when the example runs."""


def world_values(*names: str) -> st.SearchStrategy[str]:
    return st.sampled_from([Mine(name) for name in names])


#: A path segment as a broken client may send it.
SEGMENT = TEXT.filter(lambda t: t.strip() and "/" not in t)
#: The values of each argument of a route: the world's own, unknown, hostile.
#: A route with an argument missing here fails the test (add it).
PATH_VALUES: dict[str, st.SearchStrategy] = {
    "order_ref": st.one_of(world_values("order", "pending_order"), st.sampled_from(["999999", "0"]), SEGMENT),
    "line_ref": st.one_of(world_values("line"), st.sampled_from(["999999", "0"]), SEGMENT),
    "request_id": st.one_of(world_values("ret", "cancel"), ID),
    "photo_id": st.one_of(world_values("photo"), ID),
    "action": st.one_of(st.sampled_from(ACTION_NAMES), SEGMENT),
    "filename": st.one_of(st.sampled_from(["mirette_returns/mirette-returns.css", "mirette-returns.css",
                                           "../../../etc/passwd", "..%2F..%2Fsetup.cfg", "nope.js"]), TEXT),
    "order_id": ID, "product_id": ID, "artist_id": ID, "email_id": ID, "payment_id": ID,
}
#: Every name a query string of the app is read for, each with its kind of
#: values (any other name is tried too, as a stray one).
QUERY_FIELDS = {
    "after": st.one_of(CURSOR, NUMBER), "before": NUMBER, "actions": TEXT, "size": st.sampled_from(["thumb", "full"]),
    "quantity": NUMBER, "reason_code": st.sampled_from(["changed_mind", "damaged", "nope"]),
    "status": st.sampled_from(["requested", "accepted", "x"]), "kind": st.sampled_from(["return", "cancellation"]),
    "artist": TEXT, "escalated": st.sampled_from(["1", "0"]),
    "from": st.one_of(st.dates().map(str), TEXT), "to": st.one_of(st.dates().map(str), TEXT),
    "show": st.sampled_from(["waiting", "all"]), "next": NEXT,
}
#: Every name a form of the app is read for (the forms' own tests above
#: check what an accepted one saved; here, any form on any route).
FORM_FIELDS = {
    **RETURN_FIELDS, **CANCEL_FIELDS, "body": TEXT, "version": NUMBER, "note": TEXT, "tracking": TEXT,
    "amount": NUMBER, "confirm": st.sampled_from(["1", ""]), "account_id": st.one_of(ID.map(str), NUMBER),
    "locale": st.sampled_from(["en", "fr", ""]), "next": NEXT, "csrf_token": TEXT,
}


#: A valid form of each POST route, which the search then spoils a field or two
#: of: every person sends forms that pass the parsing and meet the access checks.
#: ``__version__`` stands for the current version of the request in the path.
VALID_FORMS = {
    "mirette_returns.submit_return": VALID_RETURN,
    "mirette_returns.request_cancellation": VALID_CANCEL,
    "mirette_returns.post_message": {"body": "Hello"},
    "mirette_returns.perform_action": {"version": "__version__", "note": "Send it back", "tracking": "LP1",
                                       "amount": "1.00", "confirm": "1"},
    "demo.switch": {"account_id": "1"},
    "demo.language": {"locale": "fr", "next": "/orders"},
}


def current_versions(app: Flask, form: list[tuple[str, str]], path: dict[str, object], world: World
                     ) -> list[tuple[str, str]]:
    """``form`` with ``__version__`` replaced by the version of the request in ``path``."""
    if not any(value == "__version__" for _name, value in form):
        return form
    target = path.get("request_id")
    target = getattr(world, target) if isinstance(target, Mine) else target
    with app.app_context():
        found = db.session.get(Request, target) if isinstance(target, int) and target < 2**31 else None
        version = str(found.version if found else 1)
        db.session.remove()
    return [(name, version if value == "__version__" else value) for name, value in form]


def route_url(app: Flask, world: World, endpoint: str, arguments: dict[str, str]) -> str:
    values = {name: getattr(world, value) if isinstance(value, Mine) else value
              for name, value in arguments.items()}
    with app.test_request_context():
        return url_for(endpoint, **values)


def route_arguments(app: Flask, endpoint: str) -> list[str]:
    [arguments] = {tuple(sorted(rule.arguments)) for rule in app.url_map.iter_rules() if rule.endpoint == endpoint}
    return list(arguments)


def test_every_route_as_every_person(shop):
    """Each route of the route table, with hostile path values, query
    strings and forms, as each person of the access matrix: never a 5xx, and
    a refused input changes nothing."""
    app, holder = shop, {}
    assert app_routes(app) == ROUTE_TABLE and len(ROUTE_TABLE) > 20
    for endpoint, method in ROUTE_TABLE:
        fuzz_route(app, holder, endpoint, method)
    # Every route was tried, as every person.
    tried = {key.split(" as ")[0] for key in ROUTE_CASES}
    assert tried == {f"{method} {endpoint}" for endpoint, method in ROUTE_TABLE}


def fuzz_route(app: Flask, holder: dict, endpoint: str, method: str) -> None:
    arguments = route_arguments(app, endpoint)
    missing = [name for name in arguments if name not in PATH_VALUES]
    assert not missing, f"route {endpoint} takes {missing}: give them values in PATH_VALUES"
    path = st.fixed_dictionaries({name: PATH_VALUES[name] for name in arguments})
    posted = method == "POST"

    @fuzz("every_route")
    @given(person=st.sampled_from(sorted(IDENTITIES)), path=path, query=fields(QUERY_FIELDS),
           form=fields(FORM_FIELDS, VALID_FORMS.get(endpoint)) if posted else st.just([]), encoding=ENCODINGS,
           files=uploads() if posted else st.just([]), htmx=st.booleans())
    @counted("every_route")
    def attempt(person, path, query, form, encoding, files, htmx):
        ROUTE_CASES[f"{method} {endpoint} as {person}"] += 1
        world = fresh_world(app, holder)
        grant(app, person)
        client = client_for(app, IDENTITIES[person])
        url = route_url(app, world, endpoint, path)
        form = current_versions(app, form, path, world)
        before = snapshot(app)
        if posted:
            url = f"{url}?{urlencode(query)}" if query else url
            response = post(client, url, form, encoding, files=files, htmx=htmx)
        else:
            response = client.get(url, query_string=query_of(query), headers=HTMX if htmx else {})
        response.close()
        no_server_error(response)
        if response.status_code >= 400:
            unchanged_when_refused(app, before)
        elif snapshot(app) != before:
            assert posted, f"GET {url} changed something"
            SAVED["every_route"] += 1
            holder.pop("world")  # accepted: the next example starts from the world as built

    attempt()
