"""How much history to generate, and what a load test needs to find in it."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

#: Rows of a list page (the plugin's ``MIRETTE_RETURNS_PAGE_SIZE``) plus one,
#: so that a page also has a "next" link: every filter of the support list
#: gets at least this many rows at every scale, so its first page is full at
#: 1,000 requests as at 200,000 and the growth between scales measures the
#: query, not a page that holds more rows.
FULL_PAGE = 26


@dataclass(frozen=True)
class Scale:
    """How much to generate."""

    orders: int
    requests: int
    messages: int
    artists: int
    #: Requests of the busiest artist (the first one generated).
    busiest: int
    #: Buyer accounts; ``0`` means one per eight orders.
    buyers: int = 0
    #: Messages of the one long thread the load tests open.
    long_thread: int = 50
    seed: int = 1

    def check(self) -> None:
        """Refuse, with the reason, numbers that cannot describe a marketplace."""
        problems = []
        if self.orders < 2 or self.artists < 1 or self.requests < 2:
            problems.append("--orders and --requests must be at least 2, --artists at least 1")
        if not 2 <= self.busiest <= self.requests:
            problems.append("--busiest must be between 2 and --requests")
        elif self.requests - self.busiest > (self.artists - 1) * (self.busiest - 1):
            problems.append("--busiest is too small for the other artists to have fewer requests: "
                            "raise --busiest or --artists")
        if self.messages < self.long_thread:
            problems.append("--messages must be at least --long-thread")
        if self.buyers < 0 or self.long_thread < 0:
            problems.append("--buyers and --long-thread cannot be negative")
        if problems:
            raise click.UsageError("; ".join(problems))

    @property
    def buyer_count(self) -> int:
        return self.buyers or max(1, self.orders // 8)


@dataclass
class Landmarks:
    """What a load test needs to find in the generated data."""

    busiest_artist_ref: str
    busiest_artist_email: str
    #: A return of the busiest artist's whose thread has ``long_thread`` messages.
    long_thread_request_id: int
    long_thread_buyer_email: str
    #: Another open request of the same buyer and artist, for posting messages.
    post_request_id: int
    support_email: str
    #: Rows written, per table.
    rows: dict[str, int] = field(default_factory=dict)
