"""Fill the demo database with a marketplace-sized history, for load tests.

``flask --app mirette_returns_plugin.demo demo-generate --orders 100000
--requests 200000 --messages 1000000 --artists 1000 --busiest 20000`` adds
artists, buyers, products, orders at every stage and, through the plugin's
own tables, requests with their history, messages and refunds, all
consistent with each other: a request refers to a real order, part and line
of the shop, its status is one the workflow can reach, its history is the
path that leads there, its quantity never exceeds the line's.

Rows are written in bulk (``COPY`` on PostgreSQL, multi-row ``INSERT``
elsewhere) with explicit ids, so that a few hundred thousand requests load in
minutes. The data is appended: existing rows are kept, and the run is
reproducible for a given ``--seed``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager as ContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app, url_for
from flask.cli import with_appcontext

from ..models import Base as ReturnsBase
from ..models import (
    HistoryEntry,
    Message,
    PartLock,
    Refund,
    RefundState,
    Request,
    RequestArtist,
    RequestKind,
    UTCDateTime,
    utcnow,
)
from .models import (
    Account,
    ArtistProfile,
    PaymentRefund,
    Product,
    Shipment,
    ShopOrder,
    ShopOrderLine,
    Variant,
    db,
)

#: Rows per ``INSERT`` (or per progress step of a ``COPY``).
CHUNK = 5000
#: How far back the generated history goes.
HISTORY_DAYS = 730
CENT = Decimal("0.01")


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


# --------------------------------------------------------------------------- #
# The catalogue the generated artists sell from
# --------------------------------------------------------------------------- #

#: name, image, price, variants
CATALOGUE = (
    ("Speckled mug", "products/mug.svg", "24.00", ("Sand", "Night blue", "Moss")),
    ("Serving bowl", "products/bowl.svg", "58.00", ("Small", "Large")),
    ("Oak chopping board", "products/board.svg", "45.00", ()),
    ("Woven linen scarf", "products/scarf.svg", "39.50", ("Ochre", "Indigo")),
    ("Blown glass vase", "products/vase.svg", "89.00", ("Clear", "Smoke")),
    ("Tumbler set", "products/tumbler.svg", "36.00", ()),
)
STUDIO_WORDS = ("Atelier", "Studio", "Maison", "Workshop", "Fabrique", "Galerie")
CRAFT_WORDS = ("Argile", "Lin", "Chêne", "Verre", "Cuivre", "Laine", "Grès", "Osier", "Papier", "Rotin")
CRAFTS = ("Stoneware", "Woodwork", "Blown glass", "Weaving", "Metalwork", "Paper goods")
FIRST_NAMES = ("Camille", "Alex", "Jules", "Léa", "Noah", "Inès", "Hugo", "Chloé", "Louis", "Emma", "Sacha",
               "Zoé", "Nina", "Tom", "Lina", "Adam", "Maëlys", "Eliott", "Rose", "Sam")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Simon",
              "Laurent", "Lefèvre", "Michel", "Garcia", "Morgan", "Fournier", "Girard", "Bonnet")
POLICIES = (
    # window, refunds delivery, return shipping paid by, restocking fee %, text
    (14, True, "artist", "0", "Returns within 14 days of delivery. Delivery costs are refunded and I send "
                              "a prepaid return label."),
    (30, False, "buyer", "10", "Returns within 30 days. Return shipping is at your expense; a 10% restocking "
                               "fee applies to returns that are not faulty."),
    (7, False, "buyer", "0", "Fragile pieces: tell me within 7 days of delivery. Delivery costs are not "
                             "refunded."),
    (None, True, "artist", "0", "Returns at any time, delivery costs refunded."),
)
#: What each side writes in a thread.
SENTENCES = {
    "buyer": (
        "Hello, thank you for your quick answer.",
        "Could you tell me where to send the parcel back?",
        "I posted it this morning, the tracking number should work tomorrow.",
        "Thank you, I received the instructions.",
        "The colour is much darker than on the photos.",
        "The size does not fit the shelf I bought it for.",
        "I would rather have a refund, if that is possible.",
        "Is the other colour still available?",
        "Merci beaucoup, bonne journée !",
    ),
    "artist": (
        "Thank you for your message, I am sorry it does not suit you.",
        "No problem, I will look at it as soon as it arrives at the workshop.",
        "Please wrap it well: the piece is fragile.",
        "I can send you a new one this week if you prefer an exchange.",
        "The parcel arrived today, everything is in order.",
        "Sorry for the delay, I was away at a craft fair.",
        "I have just initiated the refund, you should see it in a few days.",
    ),
    "support": (
        "Hello, this is the Mirette support team: we are looking into this with the artist.",
        "The team remains at your disposal if anything else comes up.",
    ),
}
COMMENTS = (
    "It is lovely but not the right size for my table.",
    "I changed my mind, sorry.",
    "It arrived after the birthday it was meant for.",
    "The colour does not match the rest of the set.",
    "",
)
#: Reasons that need no photo (photos would need image files on disk).
REASONS = ("wrong_size", "changed_mind", "late_delivery", "other")


# --------------------------------------------------------------------------- #
# Status paths: what the workflow writes on the way to each status
# --------------------------------------------------------------------------- #

#: action -> (status it leads to, or None to keep it; role of the actor)
ACTIONS: dict[str, tuple[str | None, str]] = {
    "submit": ("requested", "buyer"),
    "accept": ("accepted", "artist"),
    "ship_back": ("shipped_back", "buyer"),
    "receive": ("received", "artist"),
    "initiate_refund": ("refund_initiated", "artist"),
    "confirm_refund": ("refunded", "shop"),
    "decline": ("declined", "artist"),
    "withdraw": ("withdrawn", "buyer"),
    "ship_replacement": ("replacement_shipped", "artist"),
    "convert_to_refund": (None, "artist"),
    "refuse_order": ("order_refused", "artist"),
    "refund_initiated": (None, "artist"),
    "escalate": (None, "buyer"),
}
_TO_RECEIVED = ("submit", "accept", "ship_back", "receive")
RETURN_PATHS: dict[str, tuple[str, ...]] = {
    "requested": ("submit",),
    "accepted": ("submit", "accept"),
    "shipped_back": ("submit", "accept", "ship_back"),
    "received": _TO_RECEIVED,
    "refund_initiated": (*_TO_RECEIVED, "initiate_refund"),
    "refunded": (*_TO_RECEIVED, "initiate_refund", "confirm_refund"),
    "declined": ("submit", "decline"),
    "withdrawn": ("submit", "withdraw"),
}
EXCHANGE_PATHS: dict[str, tuple[str, ...]] = {
    "requested": ("submit",),
    "accepted": ("submit", "accept"),
    "shipped_back": ("submit", "accept", "ship_back"),
    "received": _TO_RECEIVED,
    "replacement_shipped": (*_TO_RECEIVED, "ship_replacement"),
    "declined": ("submit", "decline"),
    "withdrawn": ("submit", "withdraw"),
}
#: An exchange turned into a refund so the buyer could reorder.
CONVERTED_PATH = (*_TO_RECEIVED, "convert_to_refund", "initiate_refund", "confirm_refund")
CANCELLATION_PATHS: dict[str, tuple[str, ...]] = {
    "requested": ("submit",),
    "order_refused": ("submit", "refuse_order", "refund_initiated"),
    "refunded": ("submit", "refuse_order", "refund_initiated", "confirm_refund"),
    "declined": ("submit", "decline"),
    "withdrawn": ("submit", "withdraw"),
}
FINAL = frozenset({"declined", "withdrawn", "refunded", "replacement_shipped"})
#: Statuses an old request has reached, and their weights.
OLD_RETURN = {"refunded": 60, "declined": 15, "withdrawn": 15, "refund_initiated": 2, "received": 1}
OLD_EXCHANGE = {"replacement_shipped": 70, "declined": 15, "withdrawn": 15}
RECENT_RETURN = {"requested": 20, "accepted": 20, "shipped_back": 10, "received": 8, "refund_initiated": 7,
                 "refunded": 15, "declined": 10, "withdrawn": 10}
RECENT_EXCHANGE = {"requested": 20, "accepted": 20, "shipped_back": 10, "received": 10,
                   "replacement_shipped": 20, "declined": 10, "withdrawn": 10}
IN_TRANSIT = {"requested": 50, "accepted": 30, "declined": 10, "withdrawn": 10}
#: Cancellations older than a few days have been answered.
CANCELLATIONS = {"order_refused": 3, "refunded": 57, "declined": 20, "withdrawn": 20}
#: What a part's stage is after a cancellation in each status: refused, or
#: shipped and delivered because it was too late or the buyer changed their mind.
CANCELLED_PART_STATE = {"requested": "paid", "withdrawn": "delivered", "order_refused": "cancelled",
                        "refunded": "cancelled", "declined": "delivered"}


# --------------------------------------------------------------------------- #
# The plan: who bought what, and which requests followed
# --------------------------------------------------------------------------- #


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
class _Request:
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
class _Ids:
    """The next free id of each table: ids are given explicitly, so rows can
    refer to each other before they are written."""

    next: dict[str, int]

    def take(self, table: sa.Table, count: int = 1) -> int:
        first = self.next[table.name]
        self.next[table.name] = first + count
        return first


@dataclass
class _Plan:
    artists: list[_Artist]
    buyers: list[_Buyer]
    orders: list[_Order]
    requests: list[_Request]
    #: The long thread and the request the load tests post to.
    landmarks: tuple[_Request, _Request]
    #: ``(id, name, email)`` of a support account to create, if there is none.
    new_support: tuple[int, str, str] | None
    support_email: str
    history_rows: int
    refund_rows: int
    part_lock_rows: int


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max((end - start).total_seconds(), 0.0)
    return start + timedelta(seconds=rng.uniform(0, span))


def _plan(scale: Scale, ids: _Ids, now: datetime, support_email: str | None) -> _Plan:
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
    for _ in range(scale.orders):
        placed = now - timedelta(days=rng.uniform(0, HISTORY_DAYS))
        orders.append(_Order(ids.take(ShopOrder.__table__), rng.choice(buyers), placed))
    # The first order holds the landmark part alone; the other groups land in
    # the other orders, one part per artist and order.
    orders[0].buyer, orders[0].placed_at = buyers[0], now - timedelta(days=20)
    wanted: list[dict[int, int]] = [{} for _ in orders]
    for artist_index, size in groups:
        slot = wanted[rng.randrange(1, len(orders))]
        slot[artist_index] = slot.get(artist_index, 0) + size

    requests: list[_Request] = []
    landmarks = _plan_part(rng, ids, now, orders[0], artists[0], 2, landmark=True)
    requests.extend(landmarks)
    history, refunds, locks = 0, 0, 1
    for order, by_artist in zip(orders[1:], wanted[1:]):
        if not by_artist:
            by_artist = {rng.randrange(len(artists)): 0}
        for artist_index, count in by_artist.items():
            made = _plan_part(rng, ids, now, order, artists[artist_index], count)
            locks += bool(made)
            requests.extend(made)
    for request in requests:
        history += len(request.path)
        refunds += request.status in ("refund_initiated", "refunded", "order_refused")
    _plan_messages(rng, scale, requests, landmarks[0])
    return _Plan(artists, buyers, orders, requests, (landmarks[0], landmarks[1]), new_support, support_email,
                 history, refunds, locks)


def _plan_artists(rng: random.Random, scale: Scale, ids: _Ids) -> list[_Artist]:
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


def _plan_part(rng: random.Random, ids: _Ids, now: datetime, order: _Order, artist: _Artist, count: int,
               *, landmark: bool = False) -> list[_Request]:
    """One artist's part of an order, its lines, and the ``count`` requests on it."""
    placed = order.placed_at
    age_days = (now - placed).days
    cancellation = count == 1 and not landmark and rng.random() < 0.25
    status = ""
    if cancellation:
        status = _weighted(rng, CANCELLATIONS if age_days > 3 else {"requested": 1})
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
        created = _between(rng, placed, min(placed + timedelta(days=2), now))
        return [_request(rng, ids, now, part, None, RequestKind.CANCELLATION, status, created)]
    requests = []
    start = delivered_at or placed + timedelta(days=1)
    lines = [line for line, units in zip(part.lines, held) for _ in range(units)]
    for number, line in enumerate(lines):
        kind = RequestKind.EXCHANGE if line.product.variants and rng.random() < 0.3 else RequestKind.RETURN
        created = _between(rng, start, min(start + timedelta(days=7), now))
        if landmark:
            kind, status, created = RequestKind.RETURN, "accepted", now - timedelta(days=8 - number)
        elif state != "delivered":
            status = _weighted(rng, IN_TRANSIT)
        elif (now - created).days > 60:
            status = _weighted(rng, OLD_EXCHANGE if kind == RequestKind.EXCHANGE else OLD_RETURN)
        else:
            status = _weighted(rng, RECENT_EXCHANGE if kind == RequestKind.EXCHANGE else RECENT_RETURN)
        request = _request(rng, ids, now, part, line, kind, status, created, plain=landmark)
        if landmark:
            request.last_activity_at = now - timedelta(hours=1 + number)
        requests.append(request)
    return requests


def _request(rng: random.Random, ids: _Ids, now: datetime, part: _Part, line: _Line | None, kind: str,
             status: str, created: datetime, *, plain: bool = False) -> _Request:
    converted = False
    if kind == RequestKind.CANCELLATION:
        path = CANCELLATION_PATHS[status]
    elif kind == RequestKind.EXCHANGE and status == "replacement_shipped" and rng.random() < 0.2:
        kind, status, path, converted = RequestKind.RETURN, "refunded", CONVERTED_PATH, True
    else:
        path = (EXCHANGE_PATHS if kind == RequestKind.EXCHANGE else RETURN_PATHS)[status]
    escalated = not plain and status not in FINAL and rng.random() < 0.05
    if escalated:
        path = (*path, "escalate")
    span = timedelta(days=rng.uniform(0, 3 * len(path)), seconds=rng.uniform(60, 3600))
    return _Request(ids.take(Request.__table__), kind, status, path, part, line, created, min(created + span, now),
                    converted=converted, escalated=escalated)


def _plan_messages(rng: random.Random, scale: Scale, requests: list[_Request], long_thread: _Request) -> None:
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


# --------------------------------------------------------------------------- #
# Rows
# --------------------------------------------------------------------------- #


@dataclass
class _Urls:
    """The demo's URLs that the workflow copies onto a request."""

    image: dict[str, str]
    artist: dict[int, str]


def _urls(plan: _Plan) -> _Urls:
    with current_app.test_request_context():
        return _Urls(
            image={image: url_for("demo.static", filename=image) for _name, image, _price, _v in CATALOGUE},
            artist={artist.id: url_for("demo.artist", artist_id=artist.id) for artist in plan.artists},
        )


def _shop_rows(plan: _Plan) -> Iterator[tuple[sa.Table, Iterable[dict]]]:
    yield ArtistProfile.__table__, (
        dict(id=a.id, name=a.name, email=a.email, craft=CRAFTS[a.id % len(CRAFTS)],
             return_window_days=a.policy[0], refunds_delivery=a.policy[1], return_shipping_paid_by=a.policy[2],
             restocking_fee_percent=Decimal(a.policy[3]), policy_text=a.policy[4])
        for a in plan.artists
    )
    accounts = [dict(id=a.account_id, name=a.name, email=a.email, locale=a.locale, is_support=False,
                     artist_id=a.id) for a in plan.artists]
    accounts += [dict(id=b.id, name=b.name, email=b.email, locale=b.locale, is_support=False, artist_id=None)
                 for b in plan.buyers]
    if plan.new_support:
        account_id, name, email = plan.new_support
        accounts.append(dict(id=account_id, name=name, email=email, locale="en", is_support=True, artist_id=None))
    yield Account.__table__, accounts
    yield Product.__table__, (
        dict(id=p.id, artist_id=a.id, name=p.name, description=f"{p.name}, handmade by {a.name}.",
             image=p.image, price=p.price, final_sale=False)
        for a in plan.artists for p in a.products
    )
    yield Variant.__table__, (
        dict(id=variant_id, product_id=p.id, name=name, price=None)
        for a in plan.artists for p in a.products for variant_id, name in p.variants
    )
    yield ShopOrder.__table__, (
        dict(id=o.id, number=o.number, buyer_id=o.buyer.id, currency="EUR", placed_at=o.placed_at)
        for o in plan.orders
    )
    yield Shipment.__table__, (
        dict(id=p.id, order_id=o.id, artist_id=p.artist.id, state=p.state, delivery_cost=p.delivery_cost,
             delivered_at=p.delivered_at)
        for o in plan.orders for p in o.parts
    )
    yield ShopOrderLine.__table__, (
        dict(id=line.id, shipment_id=p.id, product_id=line.product.id,
             variant_id=line.variant[0] if line.variant else None, quantity=line.quantity,
             unit_price=line.product.price)
        for o in plan.orders for p in o.parts for line in p.lines
    )


def _shop_row_count(plan: _Plan) -> int:
    parts = [p for o in plan.orders for p in o.parts]
    products = [p for a in plan.artists for p in a.products]
    return (2 * len(plan.artists) + len(plan.buyers) + bool(plan.new_support) + len(products)
            + sum(len(p.variants) for p in products) + len(plan.orders) + len(parts)
            + sum(len(p.lines) for p in parts))


def _refund_preview(request: _Request) -> tuple[Decimal, Decimal, Decimal]:
    """Items, delivery and restocking fee, as ``money.preview_*`` computes them."""
    part = request.part
    _window, refunds_delivery, _payer, fee, _text = part.artist.policy
    if request.line is None:
        items = sum((line.product.price * line.quantity for line in part.lines), Decimal("0"))
        return items.quantize(CENT, ROUND_HALF_UP), part.delivery_cost, Decimal("0.00")
    items = request.line.product.price.quantize(CENT, ROUND_HALF_UP)
    restocking = (items * Decimal(fee) / 100).quantize(CENT, ROUND_HALF_UP)
    delivery = Decimal("0.00")
    if refunds_delivery:
        units = sum(line.quantity for line in part.lines) or 1
        delivery = (part.delivery_cost / units).quantize(CENT, ROUND_DOWN)
    return items, delivery, restocking


def _request_row(request: _Request, urls: _Urls, rng: random.Random, seen: tuple) -> dict:
    order, artist, buyer, line = request.part.order, request.part.artist, request.part.order.buyer, request.line
    window, refunds_delivery, payer, fee, text = artist.policy
    items, delivery, restocking = _refund_preview(request)
    reached = set(request.path)
    product = line.product if line else None
    wanted_ref = wanted_label = None
    if product and (request.kind == RequestKind.EXCHANGE or request.converted):
        variant_id, variant_name = rng.choice([v for v in product.variants if v != line.variant])
        wanted_ref, wanted_label = str(variant_id), f"{product.name} – {variant_name}"
    return dict(
        id=request.id, kind=request.kind, status=request.status, version=len(request.path) + request.messages,
        order_ref=str(order.id), order_number=order.number, artist_ref=str(artist.id), artist_name=artist.name,
        artist_email=artist.email, artist_locale=artist.locale, buyer_ref=str(buyer.id), buyer_name=buyer.name,
        buyer_email=buyer.email, buyer_locale=buyer.locale, currency="EUR",
        line_ref=str(line.id) if line else None, product_ref=str(product.id) if product else None,
        product_name=product.name if product else None, variant=line.variant[1] if line and line.variant else None,
        image_url=urls.image[product.image] if product else None, quantity=1 if line else 0,
        unit_price=product.price if product else Decimal("0"),
        reason_code=rng.choice(REASONS) if line else None,
        comment=(rng.choice(COMMENTS) or None) if line else None,
        wanted_ref=wanted_ref, wanted_label=wanted_label, converted_from_exchange=request.converted,
        policy_window_days=window, policy_refunds_delivery=refunds_delivery,
        policy_return_shipping_paid_by=payer,
        policy_restocking_fee_percent=Decimal(fee) if line else Decimal("0"),
        policy_text=text, policy_url=urls.artist[artist.id],
        refund_items=items, refund_delivery=delivery, refund_restocking_fee=restocking,
        refund_total=items - restocking + delivery,
        instructions="Please send it back in its original box to the workshop address on my page."
        if "accept" in reached else None,
        decline_reason="The piece was used and cannot be taken back." if "decline" in reached else None,
        return_tracking=f"6A{request.id:011d}" if "ship_back" in reached and request.id % 2 else None,
        replacement_tracking=f"8R{request.id:011d}" if "ship_replacement" in reached else None,
        escalated=request.escalated, submission_token=None,
        created_at=request.created_at, last_activity_at=request.last_activity_at,
        buyer_seen_at=seen[0], artist_seen_at=seen[1],
        closed_at=request.last_activity_at if request.status in FINAL else None,
    )


def _thread_rows(request: _Request, ids: _Ids, rng: random.Random, support: tuple[str, str]):
    """The history and message rows of a request, along one timeline.

    Returns ``(history rows, message rows, (buyer seen at, artist seen at))``.
    """
    buyer, artist = request.part.order.buyer, request.part.artist
    events = len(request.path) + request.messages
    # The submission opens the timeline and the last event is the request's
    # last activity; everything else falls in between, in order.
    middle = sorted(_between(rng, request.created_at, request.last_activity_at) for _ in range(events - 2))
    times = [request.created_at, *middle, request.last_activity_at][:events]
    kinds = ["history"] * (len(request.path) - 1) + ["message"] * request.messages
    rng.shuffle(kinds)
    if request.kind == RequestKind.CANCELLATION and request.messages:
        # The buyer's message is written together with the submission.
        kinds.remove("message")
        kinds.insert(0, "message")
    kinds.insert(0, "history")
    people = {"buyer": (str(buyer.id), buyer.name), "artist": (str(artist.id), artist.name),
              "support": support, "shop": ("shop", "shop")}
    history, messages = [], []
    status = None
    steps = iter(request.path)
    author = "buyer" if request.kind == RequestKind.CANCELLATION or rng.random() < 0.5 else "artist"
    seen = {"buyer": request.created_at, "artist": None}
    first_history = ids.take(HistoryEntry.__table__, len(request.path))
    first_message = ids.take(Message.__table__, request.messages)
    for moment, kind in zip(times, kinds):
        if kind == "history":
            action = next(steps)
            target, role = ACTIONS[action]
            ref, name = people[role]
            history.append(dict(
                id=first_history + len(history), request_id=request.id, action=action, from_status=status,
                to_status=target or status, actor_role=role, actor_ref=ref, actor_name=name,
                note="Could the support team have a look?" if action == "escalate" else None,
                created_at=moment))
            status = target or status
        else:
            role = "support" if rng.random() < 0.02 else author
            ref, name = people[role]
            messages.append(dict(
                id=first_message + len(messages), request_id=request.id, author_role=role, author_ref=ref,
                author_name=name, body=" ".join(rng.sample(SENTENCES[role], rng.randint(1, 2))),
                created_at=moment))
            if role in seen:
                seen[role] = moment
            author = "artist" if author == "buyer" else "buyer"
    # Both sides have read everything, except on some open requests where the
    # other side had the last word.
    last, final = request.last_activity_at, request.status in FINAL
    buyer_seen = last if final or rng.random() < 0.7 else seen["buyer"]
    artist_seen = last if final or rng.random() < 0.6 else seen["artist"]
    return history, messages, (buyer_seen, artist_seen)


def _refund_rows(request: _Request, row: dict, ids: _Ids) -> tuple[dict, dict]:
    """The plugin's refund and the demo payment provider's record of it."""
    completed = request.status == "refunded"
    key, when = f"mr-{request.id}-gen", request.last_activity_at
    payment_id = ids.take(PaymentRefund.__table__)
    refund = dict(id=ids.take(Refund.__table__), request_id=request.id, idempotency_key=key,
                  amount=row["refund_total"], currency="EUR",
                  state=RefundState.COMPLETED if completed else RefundState.INITIATED,
                  shop_reference=f"demo-refund-{payment_id}", last_error=None, attempts=1, created_at=when,
                  attempted_at=when, completed_at=when if completed else None)
    payment = dict(id=payment_id, idempotency_key=key, order_id=request.part.order.id, amount=row["refund_total"],
                   currency="EUR", paid=completed, created_at=when)
    if "paid_at" in PaymentRefund.__table__.c:
        payment["paid_at"] = when if completed else None
    return refund, payment


# --------------------------------------------------------------------------- #
# Writing
# --------------------------------------------------------------------------- #


class _Writer:
    """Writes rows in bulk: ``COPY`` on PostgreSQL, multi-row ``INSERT`` elsewhere."""

    def __init__(self, connection: sa.Connection, advance: Callable[[int, str], None]) -> None:
        self.connection = connection
        self.advance = advance
        self.copy = connection.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}

    def write(self, table: sa.Table, rows: Iterable[dict]) -> None:
        batch: list[dict] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                self._flush(table, batch)
                batch = []
        if batch:
            self._flush(table, batch)

    def _flush(self, table: sa.Table, rows: list[dict]) -> None:
        if self.copy:
            self._copy(table, rows)
        else:
            self.connection.execute(table.insert(), rows)
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        self.advance(len(rows), table.name)

    def _copy(self, table: sa.Table, rows: list[dict]) -> None:
        from psycopg import sql

        columns = list(rows[0])
        # COPY bypasses SQLAlchemy's types: store naive UTC as UTCDateTime does.
        is_time = [isinstance(table.c[name].type, (UTCDateTime, sa.DateTime)) for name in columns]
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
        raw = self.connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([
                    value.astimezone(timezone.utc).replace(tzinfo=None) if time and value is not None else value
                    for value, time in zip(row.values(), is_time)
                ])


def _requests_rows(plan: _Plan, ids: _Ids, urls: _Urls, rng: random.Random, support: tuple[str, str]):
    """Requests with their history, messages and refunds, a slice at a time."""
    slice_size = CHUNK // 5
    for start in range(0, len(plan.requests), slice_size):
        requests, history, messages, refunds, payments = [], [], [], [], []
        for request in plan.requests[start:start + slice_size]:
            steps, thread, seen = _thread_rows(request, ids, rng, support)
            row = _request_row(request, urls, rng, seen)
            requests.append(row)
            history.extend(steps)
            messages.extend(thread)
            if request.status in ("refund_initiated", "refunded", "order_refused"):
                refund, payment = _refund_rows(request, row, ids)
                refunds.append(refund)
                payments.append(payment)
        yield Request.__table__, requests
        yield HistoryEntry.__table__, history
        yield Message.__table__, messages
        yield PaymentRefund.__table__, payments
        yield Refund.__table__, refunds


def _request_artist_rows(plan: _Plan) -> list[dict]:
    """The artists who received requests, for the support list's filter."""
    with_requests = {request.part.artist.id: request.part.artist for request in plan.requests}
    return [dict(ref=str(artist.id), name=artist.name[:255], name_key=artist.name.casefold()[:255])
            for artist in with_requests.values()]


def _part_lock_rows(plan: _Plan, ids: _Ids) -> Iterator[dict]:
    counts: dict[tuple[int, int], int] = {}
    for request in plan.requests:
        key = (request.part.order.id, request.part.artist.id)
        counts[key] = counts.get(key, 0) + 1
    for (order_id, artist_id), changes in counts.items():
        yield dict(id=ids.take(PartLock.__table__), order_ref=str(order_id), artist_ref=str(artist_id),
                   changes=changes)


def _next_ids(connection: sa.Connection) -> _Ids:
    found = {}
    for table in (*db.metadata.sorted_tables, *ReturnsBase.metadata.sorted_tables):
        if "id" in table.c:
            found[table.name] = (connection.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
    return _Ids(found)


def _reset_sequences(connection: sa.Connection, written: Iterable[str]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the data."""
    if connection.dialect.name != "postgresql":
        return
    tables = {t.name: t for t in (*db.metadata.sorted_tables, *ReturnsBase.metadata.sorted_tables)}
    for name in written:
        table = tables[name]
        if "id" not in table.c:
            continue
        connection.execute(sa.select(sa.func.setval(
            sa.func.pg_get_serial_sequence(name, "id"), sa.select(sa.func.max(table.c.id)).scalar_subquery()
        )))


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, steps: int, current_item: object = None) -> None:
        return None


def generate(scale: Scale, *, progress: Callable[[int], ContextManager] | None = None) -> Landmarks:
    """Append ``scale``'s worth of marketplace history to the app's database.

    ``progress(total_rows)`` returns a context manager with an
    ``update(rows, table_name)`` method (``click.progressbar`` is one).
    Creates the tables that are missing. Runs in one transaction.
    """
    scale.check()
    engine = db.engine
    missing = [t.name for t in (*db.metadata.sorted_tables, *ReturnsBase.metadata.sorted_tables)
               if not sa.inspect(engine).has_table(t.name)]
    if missing:
        raise click.ClickException(
            f"The database has no table {', '.join(missing)}: let the demo create its tables first "
            "(it does on its first start, unless DEMO_SEED is False).")
    now = utcnow()
    with engine.begin() as connection:
        ids = _next_ids(connection)
        support = connection.execute(
            sa.select(Account.id, Account.name, Account.email).where(Account.is_support).order_by(Account.id).limit(1)
        ).first()
        plan = _plan(scale, ids, now, support.email if support else None)
        support_author = (str(support.id), support.name) if support else (str(plan.new_support[0]),
                                                                            plan.new_support[1])
        urls = _urls(plan)
        artist_rows = _request_artist_rows(plan)
        total = (_shop_row_count(plan) + len(plan.requests) + plan.history_rows + scale.messages
                 + 2 * plan.refund_rows + plan.part_lock_rows + len(artist_rows))
        with (progress or (lambda _total: _NoBar()))(total) as bar:
            writer = _Writer(connection, bar.update)
            for table, rows in _shop_rows(plan):
                writer.write(table, rows)
            for table, rows in _requests_rows(plan, ids, urls, random.Random(scale.seed + 1), support_author):
                writer.write(table, rows)
            writer.write(PartLock.__table__, _part_lock_rows(plan, ids))
            writer.write(RequestArtist.__table__, artist_rows)
        _reset_sequences(connection, writer.counts)
    if engine.dialect.name == "postgresql":
        # Fresh statistics, so the planner knows the tables' new sizes.
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    long_thread, post_target = plan.landmarks
    return Landmarks(
        busiest_artist_ref=str(plan.artists[0].id),
        busiest_artist_email=plan.artists[0].email,
        long_thread_request_id=long_thread.id,
        long_thread_buyer_email=long_thread.part.order.buyer.email,
        post_request_id=post_target.id,
        support_email=plan.support_email,
        rows=writer.counts,
    )


# --------------------------------------------------------------------------- #
# The command
# --------------------------------------------------------------------------- #


@click.command("demo-generate")
@click.option("--orders", type=click.IntRange(min=2), default=100_000, show_default=True)
@click.option("--requests", type=click.IntRange(min=2), default=200_000, show_default=True)
@click.option("--messages", type=click.IntRange(min=0), default=1_000_000, show_default=True)
@click.option("--artists", type=click.IntRange(min=1), default=1_000, show_default=True)
@click.option("--busiest", type=click.IntRange(min=2), default=20_000, show_default=True,
              help="Requests of the busiest artist.")
@click.option("--buyers", type=click.IntRange(min=0), default=0, help="Buyer accounts [default: orders / 8].")
@click.option("--long-thread", type=click.IntRange(min=0), default=50, show_default=True,
              help="Messages of the one long thread.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
@click.option("--summary", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write what was generated (ids, emails, row counts) to this JSON file.")
@with_appcontext
def generate_command(orders: int, requests: int, messages: int, artists: int, busiest: int, buyers: int,
                     long_thread: int, seed: int, summary: Path | None) -> None:
    """Fill the demo database with a marketplace-sized history (for load tests)."""
    scale = Scale(orders=orders, requests=requests, messages=messages, artists=artists, busiest=busiest,
                  buyers=buyers, long_thread=long_thread, seed=seed)

    def bar(total: int):
        return click.progressbar(length=total, label="Generating", show_pos=True, show_percent=True,
                                 item_show_func=lambda table: table or "")

    landmarks = generate(scale, progress=bar)
    for table, count in landmarks.rows.items():
        click.echo(f"{table:32} {count:>10,}")
    click.echo(f"Busiest artist: {landmarks.busiest_artist_email} (artist {landmarks.busiest_artist_ref})")
    click.echo(f"Long thread: request {landmarks.long_thread_request_id} "
               f"(buyer {landmarks.long_thread_buyer_email}); post to request {landmarks.post_request_id}")
    click.echo(f"Support: {landmarks.support_email}")
    if summary:
        summary.write_text(json.dumps(asdict(landmarks), indent=2) + "\n", encoding="utf-8")
