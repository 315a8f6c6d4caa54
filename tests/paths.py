"""Paths through the workflow's table, for the tests that drive requests.

Computed from :data:`mirette_returns_plugin.workflow.TRANSITIONS` itself: a
row added to the table is driven and tested without touching the tests. Pure
(no shop, no database): the demo's tests (``tests/flows.py``) and the unit
layer (``tests/unit/steps.py``) walk the same paths, each with its own people.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from mirette_returns_plugin import workflow
from mirette_returns_plugin.access import Role
from mirette_returns_plugin.models import RequestKind
from mirette_returns_plugin.workflow import Transition

#: When a step is open to several roles, the path uses the first of these.
DRIVING_ROLES = (Role.ARTIST, Role.BUYER, Role.SUPPORT)

Node = tuple[str, str]  # (kind, status): a conversion changes the kind


@dataclass(frozen=True)
class Step:
    action: str
    role: str

    def __str__(self) -> str:
        return f"{self.action} ({self.role})"


def moves(kind: str, status: str) -> Iterator[tuple[Transition, Node, str]]:
    """Steps that change the status or the kind, with the node they lead to."""
    for transition in workflow.TRANSITIONS:
        if kind not in transition.kinds or status not in transition.sources:
            continue
        next_kind = RequestKind.RETURN if transition.action == "convert_to_refund" else kind
        role = next((r for r in DRIVING_ROLES if r in transition.roles), None)
        for target in (transition.target or status, *sorted(transition.also_leads_to)):
            node = (next_kind, target)
            if node != (kind, status) and role is not None:
                yield transition, node, role


def shortest_paths(start_kind: str) -> dict[Node, tuple[Step, ...]]:
    """The shortest legal path from a new request to every node it can reach."""
    start = (start_kind, workflow.Status.REQUESTED)
    paths: dict[Node, tuple[Step, ...]] = {start: ()}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for transition, after, role in moves(*node):
            if after not in paths:
                paths[after] = paths[node] + (Step(transition.action, role),)
                queue.append(after)
    return paths


PATHS = {kind: shortest_paths(kind) for kind in RequestKind.ALL}


@dataclass(frozen=True)
class Case:
    """One row of the table, for one kind, from one source status."""

    transition: Transition
    kind: str
    source: str
    #: The kind the request is submitted as (an exchange converted to a
    #: refund is a return from then on).
    start_kind: str
    path: tuple[Step, ...] = field(default=())

    @property
    def action(self) -> str:
        return self.transition.action

    def __str__(self) -> str:
        start = "" if self.start_kind == self.kind else f"-converted-{self.start_kind}"
        return f"{self.action}-{self.kind}{start}-from-{self.source}"


def cases() -> list[Case]:
    """Every (transition, kind, source status) a request can really be in."""
    found = []
    for transition in workflow.TRANSITIONS:
        for kind in sorted(transition.kinds):
            for source in sorted(transition.sources):
                start = next((s for s in (kind, *RequestKind.ALL) if (kind, source) in PATHS[s]), None)
                if start is not None:
                    found.append(Case(transition, kind, source, start, PATHS[start][(kind, source)]))
    return found


#: A step's guard must pass before the role is what is tested: these set the
#: request up so that it does.
ESCALATE_FIRST = {"resolve_escalation"}
REFUND_FAILS_ON_THE_WAY = {"retry_refund"}
#: Statuses a step reaches only when the buyer has not paid.
UNPAID_OUTCOMES = {workflow.Status.CANCELLED}
