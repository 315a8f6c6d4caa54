"""Audit: no status changes without one history row naming who did it.

Every status change is observed where it cannot hide: a listener on every
SQLAlchemy session records each committed change of ``Request.status``
(creation included). Then every transition of the table (each kind, each
source status, each role allowed) and every creation path (pages, the
workflow, the shop's refund confirmation) is run, and for every request:

- the status changes the database went through are exactly the history rows
  that change the status, in the same order, one row each;
- the rows form an unbroken chain from creation to the current status;
- each row names its actor (role and reference), and the reference is
  really the buyer, an artist of the request, a support member, or the shop.

A static check completes it: no module writes a request's status anywhere
but in ``workflow.change_status`` (or when creating one, next to its first
history row).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from mirette_returns_plugin import confirm_refund, workflow
from mirette_returns_plugin.access import Role
from mirette_returns_plugin.demo.models import Account, PaymentRefund, db
from mirette_returns_plugin.errors import AdapterError
from mirette_returns_plugin.models import HistoryEntry, Refund, Request
from tests import flows
from tests.hardening import reset, visitor
from tests.pagekit import parse, submit
from tests.shop import BOIS, CAMILLE, LUNE, SUPPORT, artist_ref, line_ref, order_ref, user

PACKAGE = Path(__file__).resolve().parent.parent / "mirette_returns_plugin"


# --------------------------------------------------------------------------- #
# Watching every committed status change
# --------------------------------------------------------------------------- #


class StatusWatch:
    """Committed ``Request.status`` changes, in order: ``(request id, from, to)``."""

    def __init__(self) -> None:
        self.changes: list[tuple[int, str | None, str]] = []

    def after_flush(self, session: Session, context) -> None:
        pending = session.info.setdefault("audit_pending", [])
        for row in [*session.new, *session.dirty]:
            if not isinstance(row, Request):
                continue
            history = sa.inspect(row).attrs.status.history
            if history.added:
                before = history.deleted[0] if history.deleted else None
                if before != history.added[0]:
                    pending.append((row.id, before, history.added[0]))

    def after_commit(self, session: Session) -> None:
        self.changes.extend(session.info.pop("audit_pending", []))

    def after_rollback(self, session: Session) -> None:
        session.info.pop("audit_pending", None)

    def per_request(self) -> dict[int, list[tuple[str | None, str]]]:
        found: dict[int, list[tuple[str | None, str]]] = defaultdict(list)
        for request_id, before, after in self.changes:
            found[request_id].append((before, after))
        return found


@pytest.fixture
def watch() -> Iterator[StatusWatch]:
    watcher = StatusWatch()
    events = (("after_flush", watcher.after_flush), ("after_commit", watcher.after_commit),
              ("after_rollback", watcher.after_rollback))
    for name, listener in events:
        sa.event.listen(Session, name, listener)
    try:
        yield watcher
    finally:
        for name, listener in events:
            sa.event.remove(Session, name, listener)


def check_every_request(watch: StatusWatch) -> int:
    """The audit itself, over every request in the database; returns the number of status changes."""
    db.session.remove()
    accounts = {str(a.id): a for a in db.session.scalars(sa.select(Account))}
    observed = watch.per_request()
    requests = db.session.scalars(sa.select(Request).order_by(Request.id)).all()
    assert requests, "nothing was exercised"
    total = 0
    for request in requests:
        rows = db.session.scalars(sa.select(HistoryEntry).where(HistoryEntry.request_id == request.id)
                                  .order_by(HistoryEntry.id)).all()
        where = f"request {request.id} ({request.kind}, now {request.status})"
        assert rows and rows[0].action == "submit" and rows[0].from_status is None, where
        # An unbroken chain, from creation to the current status.
        status = None
        for row in rows:
            assert row.from_status == status, (where, row.action, row.from_status, status)
            status = row.to_status
        assert status == request.status, where
        # One row per change: the changes the database saw are the rows that change the status.
        changing = [(row.from_status, row.to_status) for row in rows if row.from_status != row.to_status]
        assert changing == observed.get(request.id, []), (where, changing, observed.get(request.id))
        total += len(changing)
        # Each row names who did it, and that is someone who could.
        for row in rows:
            assert row.actor_role in (Role.BUYER, Role.ARTIST, Role.SUPPORT, Role.SHOP), (where, row.action)
            assert row.actor_ref and row.actor_name, (where, row.action)
            actor = accounts.get(row.actor_ref)
            if row.actor_role == Role.BUYER:
                assert row.actor_ref == request.buyer_ref, (where, row.action)
            elif row.actor_role == Role.ARTIST:
                assert actor is not None and str(actor.artist_id) == request.artist_ref, (where, row.action)
            elif row.actor_role == Role.SUPPORT:
                assert actor is not None and actor.is_support, (where, row.action)
            else:
                assert row.actor_ref == Role.SHOP, (where, row.action)
            if actor is not None:
                assert row.actor_name == actor.name, (where, row.action)
    db.session.remove()
    return total


# --------------------------------------------------------------------------- #
# Every path
# --------------------------------------------------------------------------- #


def take_as_role(request_id: int, action: str, role: str) -> None:
    """``role`` takes ``action``; the shop confirms a refund through the public function."""
    if role == Role.SHOP:
        db.session.remove()
        key = db.session.scalar(sa.select(Refund.idempotency_key).where(Refund.request_id == request_id))
        confirm_refund(key, "bank-1")
        return
    flows.take(flows.PERSON_FOR_ROLE[role], request_id, action)


def test_every_transition_writes_one_named_row_per_change(app, ctx, watch):
    taken = changes = 0
    for case in flows.cases():
        for role in sorted(case.transition.roles):
            reset(app)
            watch.changes.clear()
            request_id = flows.drive(case)
            take_as_role(request_id, case.action, role)
            taken += 1
            changes += check_every_request(watch)
    assert taken >= len(flows.cases()) and changes > taken
    print(f"audit: {taken} steps taken, {changes} status changes, each with one named history row")


def test_every_creation_path_and_the_refund_paths(app, watch):
    """Pages and workflow alike: returns, exchanges, cancellations (one artist,
    every artist), a refund that fails and is retried, the shop's confirmation
    (twice), the demo's payment page."""
    camille = visitor(app, CAMILLE)
    with app.test_request_context():
        mug = f"/returns/orders/{order_ref('MIR-1004')}/lines/{line_ref('MIR-1004', 'Speckled mug')}"
        two_artists = order_ref("MIR-1002")
        one_artist = order_ref("MIR-1001")
    # Pages: "Submit a request" (return, exchange), cancellations.
    form = parse(camille.get(f"{mug}/return")).find("form", action=f"{mug}/return")
    assert submit(camille, form, quantity="1", kind="return", reason_code="changed_mind").status_code == 303
    form = parse(camille.get(f"{mug}/return")).find("form", action=f"{mug}/return")
    wanted = next(o.get("value") for o in form.find("select", name="wanted_ref").find_all("option") if o.get("value"))
    assert submit(camille, form, quantity="1", kind="exchange", reason_code="wrong_size",
                  wanted_ref=wanted).status_code == 303
    cancel = camille.post(f"/returns/orders/{two_artists}/cancel", data={"scope": "all", "message": "All"})
    assert cancel.status_code == 303
    with app.test_request_context():
        lune = artist_ref(LUNE)
    assert camille.post(f"/returns/orders/{one_artist}/cancel", data={"artist_ref": lune, "message": "One"}
                        ).status_code == 303
    with app.test_request_context():
        ids = list(db.session.scalars(sa.select(Request.id).order_by(Request.id)))
        assert len(ids) == 5
        returned, exchanged, *cancellations = ids
        # Steps through the pages, by each side.
        lune_client, support = visitor(app, LUNE), visitor(app, SUPPORT)
        for client, request_id, action in ((lune_client, returned, "accept"), (camille, returned, "ship_back"),
                                           (lune_client, returned, "receive"), (support, exchanged, "decline")):
            version = db.session.get(Request, request_id).version
            db.session.remove()
            answer = client.post(f"/returns/requests/{request_id}/actions/{action}",
                                 data={"version": str(version), "note": "Noted", "confirm": "1"})
            assert answer.status_code == 303, (action, answer.status_code)
        # A refund that fails, then is retried, then confirmed twice by the shop.
        with flows.shop_refunds(flows.FailingPaymentShop()), pytest.raises(AdapterError):
            workflow.perform(user(LUNE), returned, "initiate_refund")
        workflow.perform(user(LUNE), returned, "initiate_refund")
        key = db.session.scalar(sa.select(Refund.idempotency_key).where(Refund.request_id == returned))
        confirm_refund(key, "bank-1")
        confirm_refund(key, "bank-1")
        # Each cancelled part: refused (the demo's payment page pays it), declined, withdrawn.
        def cancellation(order: str, artist: str) -> int:
            return db.session.scalar(sa.select(Request.id).where(
                Request.id.in_(cancellations), Request.order_ref == order, Request.artist_ref == artist_ref(artist)))

        workflow.perform(user(BOIS), cancellation(two_artists, BOIS), "refuse_order", note="Not made yet")
        workflow.perform(user(LUNE), cancellation(two_artists, LUNE), "decline", note="Already shipped")
        workflow.perform(user(CAMILLE), cancellation(one_artist, LUNE), "withdraw")
        payment = db.session.scalar(sa.select(PaymentRefund.id).where(PaymentRefund.paid.is_(False)))
        db.session.remove()
    assert support.post(f"/payments/{payment}/paid").status_code == 303
    with app.test_request_context():
        changes = check_every_request(watch)
    assert changes >= 12


# --------------------------------------------------------------------------- #
# Statically: one place writes a status
# --------------------------------------------------------------------------- #

#: Files allowed to write a status outside ``change_status``, and why (the
#: benchmarks' bulk generator is outside the package: ``benchmarks/marketplace``).
EXEMPT: set[Path] = set()


def status_writes(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """``(node, how)`` for each statement that writes a ``status``."""
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute) and part.attr == "status":
                    yield node, "assignment to .status"
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name == "setattr" and len(node.args) > 1 and getattr(node.args[1], "value", None) == "status":
                yield node, "setattr(..., 'status')"
            if name in ("values", "update", "insert") and (
                    any(k.arg == "status" for k in node.keywords)
                    or any(isinstance(a, ast.Dict) and any(getattr(k, "value", None) == "status" for k in a.keys)
                           for a in node.args)):
                yield node, "SQL write of status"
            if name == "Request" and any(k.arg == "status" for k in node.keywords):
                yield node, "new Request(status=...)"


def enclosing_functions(tree: ast.AST) -> dict[ast.AST, ast.FunctionDef]:
    owner = {}
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                owner.setdefault(node, function)
    # The innermost function wins.
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(function):
                if inner is not function and isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for node in ast.walk(inner):
                        owner[node] = inner
    return owner


def calls(function: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", "")) == name
               for n in ast.walk(function))


def test_only_change_status_writes_a_status():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in EXEMPT or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        owner = enclosing_functions(tree)
        for node, how in status_writes(tree):
            function = owner.get(node)
            name = function.name if function else "<module>"
            if path.parts[-2:] == ("workflow", "records.py") and name == "change_status" \
                    and how == "assignment to .status":
                continue
            if how == "new Request(status=...)" and function is not None and calls(function, "record"):
                continue  # a creation, recorded by its first history row in the same function
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {name}: {how}")
    assert not offenders, "a status written outside workflow.change_status:\n" + "\n".join(offenders)


def test_the_static_check_finds_every_way_of_writing_a_status():
    source = '''
def sneaky(request, session):
    request.status = "refunded"
    setattr(request, "status", "refunded")
    session.execute(sa.update(Request).values(status="refunded"))
    session.execute(table.update().values({"status": "refunded"}))
    session.add(Request(status="refunded"))
'''
    found = [how for _node, how in status_writes(ast.parse(source))]
    assert found == ["assignment to .status", "setattr(..., 'status')", "SQL write of status",
                     "SQL write of status", "new Request(status=...)"]
