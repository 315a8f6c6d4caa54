"""Full first pages: every filter of the support list gets a full page at every scale.

Left to chance, a small history has few rows in its rarer statuses (5
escalated requests among 1,000), so its filtered pages list fewer rows than
a large history's and the growth between scales measures the rows rendered,
not the query. The plan asks this module which status to give a request
while some status still lacks rows, and whether to escalate it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .paths import CANCELLATIONS, FINAL, IN_TRANSIT, OLD_EXCHANGE, OLD_RETURN, RECENT_EXCHANGE, RECENT_RETURN
from .scale import FULL_PAGE

#: Every table a request's status is drawn from.
TABLES = (OLD_RETURN, OLD_EXCHANGE, RECENT_RETURN, RECENT_EXCHANGE, IN_TRANSIT, CANCELLATIONS)
OLD = {*OLD_RETURN, *OLD_EXCHANGE}


def scarcity(status: str) -> tuple[bool, int]:
    """Statuses that only recent requests reach come first, then those few tables offer:
    old requests are the many, recent ones must go to what only they can give."""
    return status in OLD, sum(status in table for table in TABLES)


@dataclass
class FullPages:
    """How many rows each status and the escalated filter still lack."""

    statuses: dict[str, int] = field(
        default_factory=lambda: {status: FULL_PAGE for table in TABLES for status in table})
    escalated: int = FULL_PAGE

    def status(self, rng: random.Random, weights: dict[str, int]) -> str:
        """The scarcest status of ``weights`` that still lacks rows, else one drawn by weight."""
        lacking = [status for status in weights if self.statuses.get(status, 0) > 0]
        if lacking:
            return min(lacking, key=lambda status: (*scarcity(status), status))
        return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]

    def escalate(self, rng: random.Random, status: str) -> bool:
        """An open request is escalated one time in twenty, or while the filter lacks rows."""
        return status not in FINAL and (self.escalated > 0 or rng.random() < 0.05)

    def count(self, status: str, escalated: bool) -> None:
        if self.statuses.get(status, 0) > 0:
            self.statuses[status] -= 1
        if escalated and self.escalated > 0:
            self.escalated -= 1
