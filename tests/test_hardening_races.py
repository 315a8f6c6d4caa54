"""Races over real HTTP, against the app served by a threaded server.

Each visitor loads the real page first (its session, its CSRF token, the
form's one-time submission token and version), opens its connections, and a
barrier releases every post at once, as many tabs or a double-clicking
buyer would. On PostgreSQL and MariaDB:

- 16 identical "Submit a request" posts create exactly one request, and
  every one of them is answered with that request;
- 16 identical "cancel everything" posts ask each artist once;
- the buyer withdrawing her cancellation while the artist refuses the order:
  one of them wins, and the order, the refund and the history agree;
- the buyer asking every artist to cancel while the artist refuses her first
  request: that artist is never asked twice;
- two artist steps at once (accept and decline, from two tabs), one wins;
- "Initiate the refund" clicked 16 times: the shop is asked once;
- a refund less than the estimate decided while the refund starts: the shop
  is asked for the amount the request says, or the decision is refused.

SQLite admits one writer at a time, so nothing can race there.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import PaymentRefund, Shipment, db
from mirette_returns_plugin.models import HistoryEntry, OutboxEmail, Refund, Request
from tests.conftest import RACES
from tests.hardening import Browser, HttpAnswer, browser_as, build_world, reset, served, show
from tests.pagekit import form_values, parse
from tests.shop import BOIS, CAMILLE, LUNE, SUPPORT, artist_ref, line_ref, order_ref, user

pytestmark = RACES

AT_ONCE = 16
#: One line per race, printed at the end of the module.
FIGURES: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def figures(request, database_url):
    yield
    if FIGURES:
        kind = "mariadb" if database_url.startswith("mysql") else database_url.split(":", 1)[0].split("+", 1)[0]
        show(request.config, ["", f"Races over HTTP ({kind}):",
                              *[f"  {line}" for line in FIGURES]])


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def base_url(app) -> Iterator[str]:
    with served(app) as url:
        yield url


@dataclass
class Post:
    browser: Browser
    path: str
    form: dict[str, str]


def fire(posts: list[Post]) -> list[HttpAnswer]:
    """Open every connection, then send every post at the same instant."""
    barrier = threading.Barrier(len(posts))
    answers: list[HttpAnswer | BaseException | None] = [None] * len(posts)

    def run(index: int, post: Post) -> None:
        browser = post.browser
        connection = http.client.HTTPConnection(browser.host, browser.port, timeout=120)
        try:
            connection.connect()
            body = urlencode(post.form).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())}
            barrier.wait(timeout=60)
            connection.request("POST", post.path, body=body, headers=headers)
            response = connection.getresponse()
            answers[index] = HttpAnswer(response.status, {k.lower(): v for k, v in response.getheaders()},
                                        response.read().decode("utf-8", "replace"))
        except BaseException as error:  # noqa: BLE001 - reported below
            answers[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, p), name=f"post-{i}") for i, p in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a post never got an answer"
    errors = [answer for answer in answers if isinstance(answer, BaseException)]
    assert not errors, errors
    assert not [a for a in answers if a.status >= 500], [a.body[:500] for a in answers if a.status >= 500]
    return answers  # type: ignore[return-value]


def signed_in(app, base_url: str, email: str) -> Browser:
    return browser_as(app, base_url, email, locale="en")


def form_on(browser: Browser, path: str, form_id: str | None = None, action: str | None = None) -> dict[str, str]:
    page = browser.get(path)
    assert page.status == 200, (path, page.status)
    tree = parse(page.body)
    # A form may post to an anchor of its page (a cancellation opens at its part).
    form = tree.by_id(form_id) if form_id else next(
        (f for f in tree.find_all("form") if (f.get("action") or "").split("#", 1)[0] == action), None)
    assert form is not None, (path, form_id, action)
    return form_values(form)


def count(model, *where) -> int:
    db.session.remove()
    found = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
    db.session.remove()
    return found


def refused_with_a_message(answer: HttpAnswer) -> None:
    assert answer.status in (403, 409), answer.status
    text = parse(answer.body).text
    assert ("changed" in text or "not possible now" in text or "already" in text), text[:400]


# --------------------------------------------------------------------------- #
# The buyer's forms, posted many times at once
# --------------------------------------------------------------------------- #


def test_identical_submits_make_exactly_one_request(app, base_url):
    camille = signed_in(app, base_url, CAMILLE)
    with app.app_context():
        mug = f"/returns/orders/{order_ref('MIR-1004')}/lines/{line_ref('MIR-1004', 'Speckled mug')}/return"
    for round_number in range(3):
        form = form_on(camille, mug, action=mug)
        token = form["submission_token"]
        form.update(quantity="1", kind="return", reason_code="changed_mind", comment=f"Round {round_number}")
        answers = fire([Post(camille, mug, form) for _ in range(AT_ONCE)])
        with app.app_context():
            [created] = db.session.scalars(sa.select(Request).where(Request.submission_token == token)).all()
            assert count(Request, Request.comment == f"Round {round_number}") == 1
            assert count(HistoryEntry, HistoryEntry.request_id == created.id) == 1
            emails = db.session.scalars(sa.select(OutboxEmail.recipient)
                                        .where(OutboxEmail.request_id == created.id)).all()
            assert emails and len(emails) == len(set(emails)), "an email was queued twice"
            db.session.remove()
        # Every post is answered with the one request: a retry finds the first.
        assert Counter(a.status for a in answers) == {303: AT_ONCE}, Counter(a.status for a in answers)
        assert {a.location for a in answers} == {f"/returns/requests/{created.id}"}
    FIGURES.append(f"'Submit a request': {AT_ONCE} identical posts at once, 3 rounds: 1 request per round, "
                   f"all {3 * AT_ONCE} answers 303 to it")


def test_identical_cancel_everything_posts_ask_each_artist_once(app, base_url):
    camille = signed_in(app, base_url, CAMILLE)
    with app.app_context():
        order = order_ref("MIR-1002")
    path = f"/returns/orders/{order}/cancel"
    form = form_on(camille, f"/returns/orders/{order}", action=path)
    form.update(scope="all", message="Ordered twice by mistake")
    answers = fire([Post(camille, path, form) for _ in range(AT_ONCE)])
    with app.app_context():
        asked = db.session.scalars(sa.select(Request.artist_ref).where(
            Request.order_ref == order, Request.kind == "cancellation")).all()
        assert sorted(asked) == sorted([artist_ref(LUNE), artist_ref(BOIS)])
    assert Counter(a.status for a in answers) == {303: AT_ONCE}
    FIGURES.append(f"'cancel everything': {AT_ONCE} identical posts at once: 1 request per artist (2), "
                   f"{AT_ONCE} answers 303")


# --------------------------------------------------------------------------- #
# The buyer against the artist
# --------------------------------------------------------------------------- #


def open_cancellation(app, number: str = "MIR-1001", artist: str = LUNE) -> int:
    with app.test_request_context():
        [created] = workflow.request_cancellation(user(CAMILLE), order_ref(number), [artist_ref(artist)],
                                                  message="Please cancel")
        created_id = created.id
        db.session.remove()
        return created_id


def test_withdrawal_racing_refuse_order_ends_in_one_consistent_state(app, base_url):
    outcomes = Counter()
    for round_number in range(4):
        reset(app)
        request_id = open_cancellation(app)
        detail = f"/returns/requests/{request_id}"
        camille, lune = signed_in(app, base_url, CAMILLE), signed_in(app, base_url, LUNE)
        withdraw = {**form_on(camille, detail, "mr-action-withdraw"), "confirm": "1"}
        refuse = {**form_on(lune, detail, "mr-action-refuse_order"), "confirm": "1", "note": "Refunded"}
        # Interleaved, and each side first in turn, so that either may win.
        sides = [Post(camille, f"{detail}/actions/withdraw", withdraw),
                 Post(lune, f"{detail}/actions/refuse_order", refuse)]
        if round_number % 2:
            sides.reverse()
        answers = fire(sides * (AT_ONCE // 2))
        winners = [a for a in answers if a.status == 303]
        assert len(winners) == 1, Counter(a.status for a in answers)
        for answer in answers:
            if answer.status != 303:
                refused_with_a_message(answer)
        with app.app_context():
            status = db.session.get(Request, request_id).status
            stage = db.session.scalar(sa.select(Shipment.state).where(
                Shipment.order_id == int(order_ref("MIR-1001")), Shipment.artist_id == int(artist_ref(LUNE))))
            refunds = count(Refund, Refund.request_id == request_id)
            paid_out = count(PaymentRefund)
            changes = db.session.scalars(sa.select(HistoryEntry.action).where(
                HistoryEntry.request_id == request_id, HistoryEntry.from_status == "requested")).all()
        if status == "withdrawn":
            assert (stage, refunds, paid_out) == ("paid", 0, 0)
            assert changes == ["withdraw"]
        else:
            assert status in ("order_refused", "refunded")
            assert (stage, refunds, paid_out) == ("cancelled", 1, 1)
            assert changes == ["refuse_order"]
        outcomes[status] += 1
    FIGURES.append(f"buyer withdraws / artist refuses the order, {AT_ONCE} posts at once, 4 rounds: one winner "
                   f"each ({dict(outcomes)}), refunds and the order part agree")


def test_cancel_everything_racing_refuse_order_never_asks_twice(app, base_url):
    lune_request = open_cancellation(app, "MIR-1002", LUNE)
    with app.app_context():
        order = order_ref("MIR-1002")
    camille, lune = signed_in(app, base_url, CAMILLE), signed_in(app, base_url, LUNE)
    cancel_path = f"/returns/orders/{order}/cancel"
    cancel = {**form_on(camille, f"/returns/orders/{order}", action=cancel_path), "scope": "all",
              "message": "Everything, please"}
    detail = f"/returns/requests/{lune_request}"
    refuse = {**form_on(lune, detail, "mr-action-refuse_order"), "confirm": "1"}
    half = AT_ONCE // 2
    answers = fire([Post(camille, cancel_path, cancel) for _ in range(half)]
                   + [Post(lune, f"{detail}/actions/refuse_order", refuse) for _ in range(half)])
    with app.app_context():
        asked = Counter(db.session.scalars(sa.select(Request.artist_ref).where(
            Request.order_ref == order, Request.kind == "cancellation")))
        assert asked[artist_ref(LUNE)] == 1 and asked[artist_ref(BOIS)] == 1, asked
        assert db.session.get(Request, lune_request).status in ("order_refused", "refunded")
        assert count(PaymentRefund) == 1
    assert sum(1 for a in answers[half:] if a.status == 303) == 1
    assert all(a.status in (303, 403, 409, 422) for a in answers), Counter(a.status for a in answers)
    FIGURES.append(f"'cancel everything' vs the artist refusing: {AT_ONCE} posts at once: the artist asked once, "
                   f"1 refund; answers {dict(sorted(Counter(a.status for a in answers).items()))}")


# --------------------------------------------------------------------------- #
# Two artist steps at once; a refund clicked many times
# --------------------------------------------------------------------------- #


def test_two_artist_steps_at_once_one_wins(app, base_url):
    statuses: Counter[int] = Counter()
    for round_number in range(3):
        world = build_world(app) if round_number == 0 else None
        with app.test_request_context():
            if world is None:
                request_id = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
                    line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return",
                    reason_code="changed_mind")).id
            else:
                request_id = world.ret
            db.session.remove()
        detail = f"/returns/requests/{request_id}"
        lune, support = signed_in(app, base_url, LUNE), signed_in(app, base_url, SUPPORT)
        accept = {**form_on(lune, detail, "mr-action-accept"), "note": "Use the prepaid label"}
        decline = {**form_on(lune, detail, "mr-action-decline"), "note": "Outside the policy", "confirm": "1"}
        by_support = {**form_on(support, detail, "mr-action-decline"), "note": "Support says no", "confirm": "1"}
        assert accept["version"] == decline["version"] == by_support["version"]
        third = AT_ONCE // 3
        answers = fire([Post(lune, f"{detail}/actions/accept", accept) for _ in range(third)]
                       + [Post(lune, f"{detail}/actions/decline", decline) for _ in range(third)]
                       + [Post(support, f"{detail}/actions/decline", by_support) for _ in range(third)])
        assert sum(1 for a in answers if a.status == 303) == 1, Counter(a.status for a in answers)
        for answer in answers:
            if answer.status != 303:
                refused_with_a_message(answer)
        with app.app_context():
            request = db.session.get(Request, request_id)
            steps = db.session.scalars(sa.select(HistoryEntry).where(
                HistoryEntry.request_id == request_id, HistoryEntry.action != "submit")).all()
            assert len(steps) == 1 and steps[0].to_status == request.status
            assert (request.instructions is None) != (request.decline_reason is None)
            db.session.remove()
        statuses.update(a.status for a in answers)
    FIGURES.append(f"accept / decline / support's decline, {3 * (AT_ONCE // 3)} posts at once, 3 rounds: one step "
                   f"each; answers {dict(sorted(statuses.items()))}")


def test_initiate_refund_clicked_everywhere_asks_the_shop_once(app, base_url):
    world = build_world(app)
    with app.test_request_context():
        for email, action in ((LUNE, "accept"), (LUNE, "receive")):
            workflow.perform(user(email), world.ret, action, note="ok")
        db.session.remove()
    detail = f"/returns/requests/{world.ret}"
    lune, support = signed_in(app, base_url, LUNE), signed_in(app, base_url, SUPPORT)
    by_lune = form_on(lune, detail, "mr-action-initiate_refund")
    by_support = form_on(support, detail, "mr-action-initiate_refund")
    half = AT_ONCE // 2
    answers = fire([Post(lune, f"{detail}/actions/initiate_refund", by_lune) for _ in range(half)]
                   + [Post(support, f"{detail}/actions/initiate_refund", by_support) for _ in range(half)])
    assert sum(1 for a in answers if a.status == 303) == 1, Counter(a.status for a in answers)
    with app.app_context():
        assert count(Refund, Refund.request_id == world.ret) == 1
        assert count(PaymentRefund) == 1, "the shop was asked to pay more than once"
        assert count(HistoryEntry, HistoryEntry.request_id == world.ret,
                     HistoryEntry.to_status == "refund_initiated", HistoryEntry.from_status == "received") == 1
    FIGURES.append(f"'Initiate the refund' {AT_ONCE} times at once (artist and support): the shop asked once, "
                   f"answers {dict(sorted(Counter(a.status for a in answers).items()))}")


def test_a_partial_refund_decided_while_the_refund_starts_never_changes_what_the_shop_is_asked(app, base_url):
    world = build_world(app)
    with app.test_request_context():
        for email, action in ((LUNE, "accept"), (LUNE, "receive")):
            workflow.perform(user(email), world.ret, action, note="ok")
        db.session.remove()
    detail = f"/returns/requests/{world.ret}"
    lune, support = signed_in(app, base_url, LUNE), signed_in(app, base_url, SUPPORT)
    initiate = form_on(lune, detail, "mr-action-initiate_refund")
    decide = {**form_on(support, detail, "mr-action-decide_refund"), "amount": "5.00",
              "note": "The handle came back chipped."}
    half = AT_ONCE // 2
    answers = fire([Post(lune, f"{detail}/actions/initiate_refund", initiate) for _ in range(half)]
                   + [Post(support, f"{detail}/actions/decide_refund", decide) for _ in range(half)])
    assert sum(1 for a in answers if a.status == 303) == 1, Counter(a.status for a in answers)
    with app.app_context():
        db.session.remove()
        request = db.session.get(Request, world.ret)
        asked = [row.amount for row in db.session.scalars(sa.select(PaymentRefund))]
        if request.refund_decided_amount is None:
            assert asked == [request.refund_total]
        else:
            assert (asked, request.refund_decided_amount) == ([], Decimal("5.00"))
        db.session.remove()
    FIGURES.append(f"'Refund less' and 'Initiate the refund' {AT_ONCE} times at once: one wins, the shop asked "
                   f"what the request says, answers {dict(sorted(Counter(a.status for a in answers).items()))}")
