"""Paths through the workflow's table, for the tests that drive requests.

Computed from :data:`mirette_returns_plugin.workflow.TRANSITIONS` itself: a
row added to the table is driven and tested without touching the tests. Pure
(no shop, no database): the demo's tests (``tests/flows.py``) and the unit
layer (``tests/unit/steps.py``) walk the same paths, each with its own people.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from mirette_returns_plugin import workflow
from mirette_returns_plugin.access import Role
from mirette_returns_plugin.errors import AdapterError
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


# --------------------------------------------------------------------------- #
# Who drives them, and with what
# --------------------------------------------------------------------------- #

#: Line requests are made on Camille's delivered mugs (Atelier Lune, 4 bought).
LINE_ORDER, LINE_PRODUCT = "MIR-1004", "Speckled mug"
#: Cancellations are asked on Atelier Lune's pending part of MIR-1002.
CANCEL_ORDER = "MIR-1002"

#: The role each person holds on the requests the tests make (``None``: no role at all).
ROLE_OF: dict[str, str | None] = {
    "buyer": Role.BUYER,
    "artist": Role.ARTIST,
    "another artist": None,
    "another buyer": None,
    "support": Role.SUPPORT,
    "anonymous": None,
}

NOTE = "Please use the prepaid label in the parcel."
TRACKING = "LP123456789FR"
#: A refund less than the estimate of a mug (€25.38).
AMOUNT = "10.00"
#: Every field a step may ask for, filled in.
STEP_VALUES = {"note": NOTE, "tracking": TRACKING, "amount": AMOUNT}


@dataclass(frozen=True)
class Cast:
    """The people of a shop, by the part they play on those requests.

    Verre Soufflé sells in both orders too, so "another artist" is a real
    neighbour, not a stranger.
    """

    buyer: str
    artist: str
    another_artist: str
    another_buyer: str
    support: str

    def people(self) -> dict[str, str | None]:
        """The people who may try a step, by their part (see :data:`ROLE_OF`)."""
        return {"buyer": self.buyer, "artist": self.artist, "another artist": self.another_artist,
                "another buyer": self.another_buyer, "support": self.support, "anonymous": None}

    def for_role(self) -> dict[str, str]:
        """Who takes a step when the role is what matters."""
        return {Role.BUYER: self.buyer, Role.ARTIST: self.artist, Role.SUPPORT: self.support}


@dataclass(frozen=True)
class Driver:
    """How one test layer submits requests and takes steps on its shop."""

    cast: Cast
    submit: Callable[[str], Any]
    take: Callable[[str | None, int, str], object]
    #: The shop's payment provider failing, and a shop whose order was never paid.
    refunds_failing: Callable[[], AbstractContextManager[object]]
    unpaid: Callable[[], AbstractContextManager[object]]

    def drive(self, case: Case) -> int:
        """A fresh request in ``case.source``, ready for ``case.action``."""
        request_id: int = self.submit(case.start_kind).id
        if case.action in ESCALATE_FIRST:
            self.take(self.cast.buyer, request_id, "escalate")
        person = self.cast.for_role()
        for number, step in enumerate(case.path):
            last = number == len(case.path) - 1
            if last and case.action in REFUND_FAILS_ON_THE_WAY and step.action in workflow.REFUND_ACTIONS:
                with self.refunds_failing():
                    try:
                        self.take(person[step.role], request_id, step.action)
                    except AdapterError:
                        pass
                    else:
                        raise AssertionError("the failing payment provider did not fail")
            elif last and case.source in UNPAID_OUTCOMES:
                with self.unpaid():
                    self.take(person[step.role], request_id, step.action)
            else:
                self.take(person[step.role], request_id, step.action)
        return request_id
