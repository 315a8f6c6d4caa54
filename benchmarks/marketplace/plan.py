"""The plan of a generated history: who bought what, and which requests followed.

Nothing is written here: the plan gives every row its id (``Ids``) so that
rows can refer to each other before ``rows`` turns them into table rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from mirette_returns_plugin.demo.models import (
    Account,
    ArtistProfile,
    Product,
    Shipment,
    ShopOrder,
    ShopOrderLine,
    Variant,
)
from mirette_returns_plugin.models import Request, RequestKind

from .catalogue import CATALOGUE, CRAFT_WORDS, FIRST_NAMES, LAST_NAMES, POLICIES, STUDIO_WORDS
from .full_pages import FullPages
from .paths import (
    CANCELLATION_PATHS,
    CANCELLATIONS,
    CANCELLED_PART_STATE,
    CONVERTED_PATH,
    EXCHANGE_PATHS,
    IN_TRANSIT,
    OLD_EXCHANGE,
    OLD_RETURN,
    RECENT_EXCHANGE,
    RECENT_RETURN,
    RETURN_PATHS,
)
from .scale import FULL_PAGE, Scale

#: How far back the generated history goes.
HISTORY_DAYS = 730
#: Orders placed in the last ``RECENT_DAYS`` days, at least (the others
#: spread over the whole history).
RECENT_ORDERS = 5 * FULL_PAGE
RECENT_DAYS = 45


@dataclass(slots=True)
class _Product:
    id: int
    name: str
    image: str
    price: Decimal
    variants: list[tuple[int, str]]


@dataclass(slots=True)
class _Artist:
    id: int
    account_id: int
    name: str
    email: str
    locale: str
    policy: tuple
    products: list[_Product] = field(default_factory=list)


@dataclass(slots=True)
class _Buyer:
    id: int
    name: str
    email: str
    locale: str


@dataclass(slots=True)
class _Line:
    id: int
    product: _Product
    variant: tuple[int, str] | None
    quantity: int


@dataclass(slots=True)
class _Order:
    id: int
    buyer: _Buyer
    placed_at: datetime
    parts: list[_Part] = field(default_factory=list)

    @property
    def number(self) -> str:
        return f"GEN-{self.id:07d}"


@dataclass(slots=True)
class _Part:
    id: int
    order: _Order
    artist: _Artist
    state: str
    delivered_at: datetime | None
    lines: list[_Line] = field(default_factory=list)
    delivery_cost: Decimal = Decimal("6.90")


@dataclass(slots=True)
class PlannedRequest:
    id: int
    kind: str
    status: str
    path: tuple[str, ...]
    part: _Part
    line: _Line | None
    created_at: datetime
    last_activity_at: datetime
    messages: int = 0
    converted: bool = False
    escalated: bool = False


@dataclass
class Ids:
    """The next free id of each table: ids are given explicitly, so rows can
    refer to each other before they are written."""

    next: dict[str, int]

    def take(self, table: sa.Table, count: int = 1) -> int:
        first = self.next[table.name]
        self.next[table.name] = first + count
        return first


@dataclass
class Plan:
    artists: list[_Artist]
    buyers: list[_Buyer]
    orders: list[_Order]
    requests: list[PlannedRequest]
    #: The long thread and the request the load tests post to.
    landmarks: tuple[PlannedRequest, PlannedRequest]
    #: ``(id, name, email)`` of a support account to create, if there is none.
    new_support: tuple[int, str, str] | None
    support_email: str
    history_rows: int
    refund_rows: int
    part_lock_rows: int


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max((end - start).total_seconds(), 0.0)
    return start + timedelta(seconds=rng.uniform(0, span))


def plan_history(scale: Scale, ids: Ids, now: datetime, support_email: str | None) -> Plan:
    rng = random.Random(scale.seed)
    artists = _plan_artists(rng, scale, ids)
    buyers = []
    for _ in range(scale.buyer_count):
        account_id = ids.take(Account.__table__)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        buyers.append(_Buyer(account_id, name, f"buyer{account_id}@buyers.gen.example", rng.choice(("en", "fr"))))
    new_support = None
    if support_email is None:
        account_id = ids.take(Account.__table__)
        support_email = f"support{account_id}@mirette.gen.example"
        new_support = (account_id, "Support team", support_email)

    # Requests per artist: the first artist is the busiest, the others share
    # the rest at random. Two of the busiest's are the landmarks.
    per_artist = [0] * len(artists)
    per_artist[0] = scale.busiest - 2
    for _ in range(scale.requests - scale.busiest):
        index = rng.randrange(1, len(artists))
        while per_artist[index] >= scale.busiest - 1:  # stays the busiest
            index = index % (len(artists) - 1) + 1
        per_artist[index] += 1
    groups: list[tuple[int, int]] = []
    for index, count in enumerate(per_artist):
        while count > 0:
            size = min(count, rng.choice((1, 1, 2, 2, 3)))
            groups.append((index, size))
            count -= size

    orders = []
    # Enough recent orders for the statuses only recent requests reach
    # (requested, accepted, shipped back) to fill a page each, at any scale.
    recent = min(scale.orders, RECENT_ORDERS)
    for number in range(scale.orders):
        days = rng.uniform(0, RECENT_DAYS) if number < recent else rng.uniform(0, HISTORY_DAYS)
        placed = now - timedelta(days=days)
        orders.append(_Order(ids.take(ShopOrder.__table__), rng.choice(buyers), placed))
    # The first order holds the landmark part alone; the other groups land in
    # the other orders, one part per artist and order.
    orders[0].buyer, orders[0].placed_at = buyers[0], now - timedelta(days=20)
    wanted: list[dict[int, int]] = [{} for _ in orders]
    for artist_index, size in groups:
        slot = wanted[rng.randrange(1, len(orders))]
        slot[artist_index] = slot.get(artist_index, 0) + size

    requests: list[PlannedRequest] = []
    full_pages = FullPages()
    landmarks = _plan_part(rng, ids, now, orders[0], artists[0], 2, full_pages, landmark=True)
    requests.extend(landmarks)
    history, refunds, locks = 0, 0, 1
    for order, by_artist in zip(orders[1:], wanted[1:], strict=False):
        if not by_artist:
            by_artist = {rng.randrange(len(artists)): 0}
        for artist_index, count in by_artist.items():
            made = _plan_part(rng, ids, now, order, artists[artist_index], count, full_pages)
            locks += bool(made)
            requests.extend(made)
    for request in requests:
        history += len(request.path)
        refunds += request.status in ("refund_initiated", "refunded", "order_refused")
    _plan_messages(rng, scale, requests, landmarks[0])
    return Plan(artists, buyers, orders, requests, (landmarks[0], landmarks[1]), new_support, support_email,
                history, refunds, locks)


def _plan_artists(rng: random.Random, scale: Scale, ids: Ids) -> list[_Artist]:
    artists = []
    for number in range(scale.artists):
        artist_id = ids.take(ArtistProfile.__table__)
        account_id = ids.take(Account.__table__)
        name = f"{rng.choice(STUDIO_WORDS)} {rng.choice(CRAFT_WORDS)} {artist_id}"
        if number == 0:
            name = f"Atelier Mille Pièces {artist_id}"
        artist = _Artist(artist_id, account_id, name, f"artist{artist_id}@artists.gen.example",
                         rng.choice(("en", "fr")), rng.choice(POLICIES))
        for title, image, price, variants in rng.sample(CATALOGUE, 3):
            product_id = ids.take(Product.__table__)
            variant_rows = [(ids.take(Variant.__table__), variant) for variant in variants]
            cents = Decimal(rng.randrange(-300, 300)) / 100
            artist.products.append(_Product(product_id, title, image, Decimal(price) + cents, variant_rows))
        artists.append(artist)
    return artists


def _plan_part(rng: random.Random, ids: Ids, now: datetime, order: _Order, artist: _Artist, count: int,
               full_pages: FullPages, *, landmark: bool = False) -> list[PlannedRequest]:
    """One artist's part of an order, its lines, and the ``count`` requests on it."""
    placed = order.placed_at
    age_days = (now - placed).days
    cancellation = count == 1 and not landmark and rng.random() < 0.25
    status = ""
    if cancellation:
        status = full_pages.status(rng, CANCELLATIONS if age_days > 3 else {"requested": 1})
        state = CANCELLED_PART_STATE[status]
    elif count and age_days <= 14 and not landmark:
        state = rng.choice(("accepted", "shipped", "delivered"))
    elif count or age_days > 14:
        state = "delivered"
    else:
        state = rng.choice(("paid", "accepted", "shipped", "delivered"))
    delivered_at = None
    if state == "delivered":
        delivered_at = min(placed + timedelta(days=rng.uniform(2, 8)), now - timedelta(hours=1))
        if landmark:
            delivered_at = now - timedelta(days=10)
    part = _Part(ids.take(Shipment.__table__), order, artist, state, delivered_at)
    order.parts.append(part)

    # Every request is for one unit; a line holds at least as many units as
    # its requests, so the returnable quantity never goes below zero.
    line_count = 1 if cancellation or landmark else rng.choice((1, 1, 2))
    held = [0] * line_count
    for _ in range(count if not cancellation else 0):
        held[rng.randrange(line_count)] += 1
    for units in held:
        product = rng.choice(artist.products)
        variant = rng.choice(product.variants) if product.variants else None
        quantity = units + rng.choice((0, 0, 1, 2)) if units else rng.randint(1, 3)
        part.lines.append(_Line(ids.take(ShopOrderLine.__table__), product, variant, quantity))
    if not count:
        return []

    if cancellation:
        created = between(rng, placed, min(placed + timedelta(days=2), now))
        return [_request(rng, ids, now, part, None, RequestKind.CANCELLATION, status, created, full_pages)]
    requests = []
    start = min(delivered_at or placed + timedelta(days=1), now)
    lines = [line for line, units in zip(part.lines, held, strict=False) for _ in range(units)]
    for number, line in enumerate(lines):
        kind = RequestKind.EXCHANGE if line.product.variants and rng.random() < 0.3 else RequestKind.RETURN
        created = between(rng, start, min(start + timedelta(days=7), now))
        if landmark:
            kind, status, created = RequestKind.RETURN, "accepted", now - timedelta(days=8 - number)
        elif state != "delivered":
            status = full_pages.status(rng, IN_TRANSIT)
        elif (now - created).days > 60:
            status = full_pages.status(rng, OLD_EXCHANGE if kind == RequestKind.EXCHANGE else OLD_RETURN)
        else:
            status = full_pages.status(rng, RECENT_EXCHANGE if kind == RequestKind.EXCHANGE else RECENT_RETURN)
        request = _request(rng, ids, now, part, line, kind, status, created, full_pages, plain=landmark)
        if landmark:
            request.last_activity_at = now - timedelta(hours=1 + number)
        requests.append(request)
    return requests


def _request(rng: random.Random, ids: Ids, now: datetime, part: _Part, line: _Line | None, kind: str,
             status: str, created: datetime, full_pages: FullPages, *, plain: bool = False) -> PlannedRequest:
    converted = False
    if kind == RequestKind.CANCELLATION:
        path = CANCELLATION_PATHS[status]
    elif kind == RequestKind.EXCHANGE and status == "replacement_shipped" and rng.random() < 0.2:
        kind, status, path, converted = RequestKind.RETURN, "refunded", CONVERTED_PATH, True
    else:
        path = (EXCHANGE_PATHS if kind == RequestKind.EXCHANGE else RETURN_PATHS)[status]
    escalated = not plain and full_pages.escalate(rng, status)
    full_pages.count(status, escalated)
    if escalated:
        path = (*path, "escalate")
    span = timedelta(days=rng.uniform(0, 3 * len(path)), seconds=rng.uniform(60, 3600))
    return PlannedRequest(ids.take(Request.__table__), kind, status, path, part, line, created,
                          min(created + span, now), converted=converted, escalated=escalated)


def _plan_messages(rng: random.Random, scale: Scale, requests: list[PlannedRequest],
                   long_thread: PlannedRequest) -> None:
    """Share the messages out: the long thread, one per cancellation, the rest at random."""
    long_thread.messages = scale.long_thread
    left = scale.messages - scale.long_thread
    for request in requests:
        if request.kind == RequestKind.CANCELLATION and left > 0:
            request.messages = 1
            left -= 1
    others = [request for request in requests if request is not long_thread]
    for _ in range(left):
        rng.choice(others).messages += 1
