"""Every transition of the table, for the roles allowed and for every other one.

The cases are generated from ``workflow.TRANSITIONS``: for each row, each kind
it applies to and each status it starts from, a fresh request is driven there
by the shortest legal path (see ``tests/steps.py``). Then:

- every person who may not take the step is refused with a sentence they can
  read, and the database is exactly as it was;
- every role that may take it succeeds, and one history row names them;
- every (status, action) pair that is not in the table is refused, for every
  role, and changes nothing.
"""

from __future__ import annotations

import pytest

from mirette_returns_plugin import workflow
from mirette_returns_plugin.access import Role
from mirette_returns_plugin.errors import NotAllowed, NotFound
from mirette_returns_plugin.models import RequestKind
from tests import paths

from . import steps
from .tiny_shop import CAMILLE, LUNE, SUPPORT

CASES = paths.cases()

#: How the refusal names the roles that may take a step.
ROLE_WORDS = {Role.BUYER: "the buyer", Role.ARTIST: "the artist", Role.SUPPORT: "the support team",
              Role.SHOP: "the shop"}

#: History rows a refund step may add besides its own: the shop's answer.
REFUND_OUTCOME_ROWS = {"refund_initiated", "refund_failed"}
#: A retried refund is recorded by its outcome, not by the retry itself.
ROW_OF_ACTION = {"retry_refund": "refund_initiated"}


def test_every_row_of_the_table_is_reachable_for_every_kind_it_names():
    """A row no request can reach is a mistake in the table (or a dead rule)."""
    covered = {(case.action, case.kind, case.transition) for case in CASES}
    for transition in workflow.TRANSITIONS:
        for kind in transition.kinds:
            assert any(a == transition.action and k == kind and t is transition for a, k, t in covered), (
                f"{transition.action!r} for {kind!r}: no request can be in any of {sorted(transition.sources)}"
            )


def test_every_status_is_reachable():
    reached = {status for paths in paths.PATHS.values() for _kind, status in paths}
    assert reached == set(workflow.STATUS_LABELS)


def test_each_action_has_one_row_per_kind():
    """``find_transition`` picks one row per (kind, action): two would hide one."""
    seen = set()
    for transition in workflow.TRANSITIONS:
        for kind in transition.kinds:
            assert (kind, transition.action) not in seen, (kind, transition.action)
            seen.add((kind, transition.action))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_people_not_allowed_are_refused_and_nothing_changes(ctx, case):
    request_id = steps.drive(case)
    before = steps.snapshot(request_id)
    assert before["status"] == case.source and before["kind"] == case.kind
    tried = 0
    for person, who in steps.PEOPLE.items():
        role = steps.ROLE_OF[person]
        if role in case.transition.roles:
            continue
        tried += 1
        with pytest.raises((NotAllowed, NotFound)) as refused:
            steps.take(who, request_id, case.action)
        message = refused.value.message
        if role is None:
            # Someone with no part in the request does not learn it exists.
            assert isinstance(refused.value, NotFound), person
            assert message == "This request does not exist.", person
        else:
            assert isinstance(refused.value, NotAllowed), person
            assert message.startswith("Only ") and message.endswith(" can do this."), (person, message)
            for allowed in case.transition.roles:
                assert ROLE_WORDS[allowed] in message, (person, message)
        assert steps.snapshot(request_id) == before, f"{person} was refused but something changed"
        visible = [t.action for t, _role in workflow.available_actions(steps.as_user(who), steps.fresh(request_id))]
        assert case.action not in visible, f"{person} is offered a button they may not use"
    assert tried >= 3


ALLOWED = [
    pytest.param(case, role, id=f"{case}-by-{role}")
    for case in CASES
    for role in sorted(case.transition.roles - {Role.SHOP})  # the shop confirms through confirm_refund()
]


@pytest.mark.parametrize("case,role", ALLOWED)
def test_allowed_role_takes_the_step_and_one_history_row_names_them(ctx, case, role):
    request_id = steps.drive(case)
    before = steps.snapshot(request_id)
    who = steps.PERSON_FOR_ROLE[role]
    actor = steps.as_user(who)
    offered = {t.action: r for t, r in workflow.available_actions(actor, steps.fresh(request_id))}
    assert offered.get(case.action) == role

    steps.take(who, request_id, case.action)

    after = steps.snapshot(request_id)
    assert after["status"] == (case.transition.target or case.source)
    assert after["version"] > before["version"]
    new_rows = steps.history(request_id)[before["history"]:]
    row_action = ROW_OF_ACTION.get(case.action, case.action)
    own = [row for row in new_rows if row.action == row_action]
    assert len(own) == 1, [(r.action, r.actor_role) for r in new_rows]
    [row] = own
    assert (row.actor_role, row.actor_ref, row.actor_name) == (role, actor.ref, actor.name)
    assert row.from_status == case.source
    assert row.to_status == (case.transition.target or case.source)
    assert row.created_at.tzinfo is not None
    others = {r.action for r in new_rows if r is not row}
    if case.action in workflow.REFUND_ACTIONS:
        assert others <= REFUND_OUTCOME_ROWS
        assert all(r.actor_ref == actor.ref for r in new_rows)
    else:
        assert not others


@pytest.mark.parametrize("what", ["notes", "tracking"])
def test_step_fields_are_stored_where_the_pages_show_them(ctx, what):
    request_id = steps.submit_line(RequestKind.EXCHANGE).id
    steps.take(LUNE, request_id, "accept", note="Send it back in its box, please.")
    steps.take(CAMILLE, request_id, "ship_back", tracking="  6A12345678901  ")
    steps.take(LUNE, request_id, "receive", note="")
    steps.take(LUNE, request_id, "ship_replacement", tracking="CB987654321FR")
    request = steps.fresh(request_id)
    if what == "notes":
        assert request.instructions == "Send it back in its box, please."
        assert steps.history(request_id)[1].note == "Send it back in its box, please."
        assert steps.history(request_id)[3].note is None  # an empty optional note is no note
    else:
        assert request.return_tracking == "6A12345678901"
        assert request.replacement_tracking == "CB987654321FR"
        assert request.closed_at is not None and request.closed_at.tzinfo is not None


def test_a_required_field_left_empty_is_refused_and_changes_nothing(ctx):
    request_id = steps.submit_line().id
    before = steps.snapshot(request_id)
    from mirette_returns_plugin.errors import ValidationError

    for action in ("accept", "decline"):
        with pytest.raises(ValidationError) as refused:
            steps.take(LUNE, request_id, action, note="   ")
        assert refused.value.errors == {"note": "This field is required."}
    with pytest.raises(ValidationError) as refused:
        steps.take(LUNE, request_id, "accept", note="x" * 5001)
    assert "5000" in refused.value.errors["note"]
    assert steps.snapshot(request_id) == before


def test_a_stale_page_is_refused_with_a_conflict(ctx):
    from mirette_returns_plugin.errors import Conflict

    request_id = steps.submit_line().id
    shown = steps.snapshot(request_id)["version"]
    steps.take(CAMILLE, request_id, "escalate", version=shown)
    before = steps.snapshot(request_id)
    with pytest.raises(Conflict) as refused:
        steps.take(LUNE, request_id, "accept", version=shown)
    assert "changed since you opened the page" in refused.value.message
    assert steps.snapshot(request_id) == before
    steps.take(LUNE, request_id, "accept", version=before["version"])
    assert steps.snapshot(request_id)["status"] == workflow.Status.ACCEPTED


@pytest.mark.parametrize("bad_id", [0, -1, "abc", "", None, 10**30, "1; drop table"])
def test_an_unknown_request_is_not_found(ctx, bad_id):
    with pytest.raises(NotFound) as refused:
        steps.take(SUPPORT, bad_id, "escalate")
    assert refused.value.message == "This request does not exist."


# --------------------------------------------------------------------------- #
# Pairs not in the table
# --------------------------------------------------------------------------- #

ALL_ACTIONS = [*sorted({t.action for t in workflow.TRANSITIONS}), "fly_to_the_moon", ""]

NODES = sorted({node for start, found in paths.PATHS.items() for node in found
                if start == node[0] or node not in paths.PATHS[node[0]]})


def _in_table(kind: str, status: str, action: str) -> bool:
    return any(t.action == action and kind in t.kinds and status in t.sources for t in workflow.TRANSITIONS)


@pytest.mark.parametrize("node", NODES, ids=lambda node: f"{node[0]}-{node[1]}")
def test_pairs_not_in_the_table_are_refused_for_every_role(ctx, node):
    kind, status = node
    start = kind if node in paths.PATHS[kind] else next(s for s in RequestKind.ALL if node in paths.PATHS[s])
    case = paths.Case(workflow.TRANSITIONS[0], kind, status, start, paths.PATHS[start][node])
    request_id = steps.drive(case)
    before = steps.snapshot(request_id)
    missing = [action for action in ALL_ACTIONS if not _in_table(kind, status, action)]
    assert missing
    for action in missing:
        for person in ("buyer", "artist", "support"):
            with pytest.raises(NotAllowed) as refused:
                steps.take(steps.PEOPLE[person], request_id, action)
            message = refused.value.message
            assert message and message[0].isupper() and message.endswith("."), (action, person, message)
            assert "_" not in message, f"{message!r} names an internal code"
    assert steps.snapshot(request_id) == before
