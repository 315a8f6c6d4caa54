"""A tiny shop for the unit tests: the adapter protocol over a few Python objects.

It holds the demo's marketplace in miniature (the same people, artists,
policies and orders as ``mirette_returns_plugin/demo/seed.py``, so the numbers
of the tests read the same), without a table of its own: what the shop knows
lives in plain objects that a test changes directly (a stage, a delivery date,
a policy, a final sale). The plugin sees it only through the methods of
:class:`mirette_returns_plugin.ShopAdapter`, like any shop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from mirette_returns_plugin import (
    AdapterError,
    Artist,
    ExchangeOption,
    Order,
    OrderLine,
    OrderPart,
    RefundOrder,
    RefundResult,
    ReturnPolicy,
    ReturnShippingPayer,
    Stage,
    User,
)

# The people, by the ref the shop gives them.
CAMILLE, ALEX = "camille", "alex"
LUNE, BOIS, VERRE = "lune", "bois", "verre"
SUPPORT = "support"

PEOPLE = {
    CAMILLE: ("Camille Martin", "camille@buyers.example", None),
    ALEX: ("Alex Morgan", "alex@buyers.example", None),
    LUNE: ("Atelier Lune", "lune@artists.example", LUNE),
    BOIS: ("Bois & Fil", "boisetfil@artists.example", BOIS),
    VERRE: ("Verre Soufflé", "verre@artists.example", VERRE),
    SUPPORT: ("Sam from support", "support@mirette.example", None),
}

#: The languages the demo seeds, for the tests marked ``seeded_languages``;
#: otherwise every one reads English.
SEEDED_LANGUAGES = {CAMILLE: "fr", ALEX: "en", LUNE: "fr", BOIS: "en", VERRE: "fr", SUPPORT: "en"}

#: Each artist's terms, as the demo seeds them.
POLICIES = {
    LUNE: ReturnPolicy(window_days=14, refunds_delivery_costs=True,
                       return_shipping_paid_by=ReturnShippingPayer.ARTIST, restocking_fee_percent=Decimal("0"),
                       text="Returns within 14 days of delivery. I refund delivery costs and send you a "
                            "prepaid return label."),
    BOIS: ReturnPolicy(window_days=30, refunds_delivery_costs=False,
                       return_shipping_paid_by=ReturnShippingPayer.BUYER, restocking_fee_percent=Decimal("10"),
                       text="Returns within 30 days. Return shipping is at your expense; a 10% restocking fee "
                            "applies to returns that are not faulty."),
    VERRE: ReturnPolicy(window_days=7, refunds_delivery_costs=False,
                        return_shipping_paid_by=ReturnShippingPayer.BUYER, restocking_fee_percent=Decimal("0"),
                        text="Fragile pieces: tell me within 7 days of delivery. Delivery costs are not refunded."),
}

#: ``name: (artist, price, variants)``.
PRODUCTS = {
    "Speckled mug": (LUNE, "24.00", ("Sand", "Night blue", "Moss")),
    "Serving bowl": (LUNE, "58.00", ("Small", "Large")),
    "Espresso cup, studio second": (LUNE, "12.00", ()),
    "Oak chopping board": (BOIS, "45.00", ()),
    "Woven linen scarf": (BOIS, "39.50", ("Ochre", "Indigo")),
    "Blown glass vase": (VERRE, "89.00", ("Clear", "Smoke")),
    "Tumbler set": (VERRE, "36.00", ()),
}
FINAL_SALE = {"Espresso cup, studio second"}

DELIVERY_COST = Decimal("6.90")


@dataclass
class Line:
    product: str
    quantity: int
    variant: str | None = None


@dataclass
class Part:
    artist: str
    stage: Stage
    lines: list[Line]
    delivered_at: datetime | None = None
    delivery_cost: Decimal = DELIVERY_COST


@dataclass
class ShopOrder:
    number: str
    buyer: str
    placed_at: datetime
    parts: list[Part]
    currency: str = "EUR"


def seeded_orders(now: datetime) -> dict[str, ShopOrder]:
    """The demo's orders (see ``demo/seed.py``), dated from ``now``."""

    def ago(days: int | None) -> datetime | None:
        return None if days is None else now - timedelta(days=days)

    def order(number: str, buyer: str, days_ago: int, parts: list[tuple]) -> ShopOrder:
        return ShopOrder(number, buyer, ago(days_ago), [
            Part(artist, stage, [Line(*line) for line in lines], delivered_at=ago(delivered))
            for artist, stage, delivered, lines in parts
        ])

    pending, accepted, shipped, delivered = Stage.PENDING, Stage.ACCEPTED, Stage.SHIPPED, Stage.DELIVERED
    orders = [
        order("MIR-1001", CAMILLE, 1, [(LUNE, pending, None, [("Speckled mug", 2, "Sand")])]),
        order("MIR-1002", CAMILLE, 2, [
            (LUNE, pending, None, [("Serving bowl", 1, "Large")]),
            (BOIS, pending, None, [("Woven linen scarf", 1, "Ochre")]),
            (VERRE, accepted, None, [("Tumbler set", 1)]),
        ]),
        order("MIR-1003", CAMILLE, 6, [(BOIS, shipped, None, [("Oak chopping board", 1),
                                                               ("Woven linen scarf", 2, "Indigo")])]),
        order("MIR-1004", CAMILLE, 12, [
            (LUNE, delivered, 3, [("Speckled mug", 4, "Night blue"), ("Serving bowl", 1, "Small")]),
            (VERRE, delivered, 2, [("Blown glass vase", 1, "Clear")]),
        ]),
        order("MIR-1005", CAMILLE, 60, [(VERRE, delivered, 50, [("Tumbler set", 2)])]),
        order("MIR-2001", ALEX, 3, [(VERRE, pending, None, [("Blown glass vase", 1, "Smoke")])]),
        order("MIR-2002", ALEX, 9, [(LUNE, delivered, 4, [("Speckled mug", 3, "Moss")]),
                                    (BOIS, delivered, 4, [("Oak chopping board", 1)])]),
    ]
    return {o.number: o for o in orders}


def line_ref(number: str, product: str) -> str:
    """The ref of the line of ``product`` in order ``number``."""
    return f"{number}/{product}"


def option_ref(product: str, variant: str) -> str:
    return f"{product}/{variant}"


@dataclass
class TinyShop:
    """The adapter: every method of the protocol, over the objects above.

    Order refs are the order numbers, artist refs the artists' names above.
    """

    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    orders: dict[str, ShopOrder] = field(default_factory=dict)
    policies: dict[str, ReturnPolicy] = field(default_factory=lambda: dict(POLICIES))
    final_sale: set[str] = field(default_factory=lambda: set(FINAL_SALE))
    #: Who is signed in (a ref of ``PEOPLE``), for the pages.
    signed_in: str | None = None
    #: Every refund the shop made, in order.
    refund_orders: list[RefundOrder] = field(default_factory=list)
    #: Every refund the plugin asked for, made or failed.
    refunds_asked: list[RefundOrder] = field(default_factory=list)
    #: When set, the payment provider fails with it (a refund cannot be made to fail otherwise).
    refund_error: BaseException | None = None
    #: Whether every order still waits for its payment.
    unpaid: bool = False
    #: Each person's language, by ref (English when missing).
    languages: dict[str, str] = field(default_factory=dict)
    #: Addresses changed since the orders were placed, by ref.
    addresses: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.orders:
            self.orders = seeded_orders(self.now)

    # -- the protocol ----------------------------------------------------- #

    def current_user(self) -> User | None:
        return None if self.signed_in is None else self.user(self.signed_in)

    def orders_for_buyer(self, buyer_ref: str) -> list[Order]:
        mine = [o for o in self.orders.values() if o.buyer == buyer_ref]
        return [self._order(o) for o in sorted(mine, key=lambda o: o.placed_at, reverse=True)]

    def get_order(self, order_ref: str) -> Order | None:
        order = self.orders.get(order_ref)
        return None if order is None else self._order(order)

    def get_artist(self, artist_ref: str) -> Artist | None:
        if artist_ref not in self.policies:
            return None
        name, _email, _artist = PEOPLE[artist_ref]
        return Artist(ref=artist_ref, name=name, email=self.address(artist_ref), policy=self.policies[artist_ref],
                      locale=self.language(artist_ref))

    def exchange_options(self, order_ref: str, line_ref: str) -> list[ExchangeOption]:
        line = self._line(order_ref, line_ref)
        if line is None:
            return []
        _artist, price, variants = PRODUCTS[line.product]
        return [ExchangeOption(ref=option_ref(line.product, v), label=f"{line.product} – {v}",
                               unit_price=Decimal(price))
                for v in variants if v != line.variant]

    def support_emails(self) -> list[str]:
        return [self.address(SUPPORT)]

    def refuse_part(self, order_ref: str, artist_ref: str) -> None:
        part = self.part(order_ref, artist_ref)
        if part is None:
            raise AdapterError("This order has no items from this artist.")
        if part.stage != Stage.PENDING:
            raise AdapterError("This part of the order was already processed; it cannot be refused.")
        part.stage = Stage.CANCELLED

    def initiate_refund(self, refund: RefundOrder) -> RefundResult:
        self.refunds_asked.append(refund)
        if self.refund_error is not None:
            raise self.refund_error
        self.refund_orders.append(refund)
        return RefundResult(reference=f"tiny-refund-{len(self.refund_orders)}")

    def order_url(self, order_ref: str) -> str | None:
        return f"/orders/{order_ref}"

    def product_url(self, product_ref: str) -> str | None:
        return None

    def artist_url(self, artist_ref: str) -> str | None:
        return None

    # -- what a test reads and changes ------------------------------------ #

    def user(self, ref: str) -> User:
        name, _email, artist = PEOPLE[ref]
        return User(ref=ref, name=name, email=self.address(ref), locale=self.language(ref), artist_ref=artist,
                    is_support=ref == SUPPORT)

    def address(self, ref: str) -> str:
        return self.addresses.get(ref, PEOPLE[ref][1])

    def language(self, ref: str) -> str:
        return self.languages.get(ref, "en")

    def part(self, number: str, artist: str) -> Part | None:
        order = self.orders.get(number)
        return None if order is None else next((p for p in order.parts if p.artist == artist), None)

    def set_policy(self, artist: str, **changes) -> None:
        self.policies[artist] = replace(self.policies[artist], **changes)

    @contextmanager
    def refunds_failing(self, error: BaseException | None = None) -> Iterator[None]:
        """The payment provider is down for the duration."""
        self.refund_error = error or AdapterError("The payment provider is not answering.")
        try:
            yield
        finally:
            self.refund_error = None

    @contextmanager
    def waiting_for_payment(self) -> Iterator[None]:
        """Every order waits for its payment for the duration."""
        self.unpaid = True
        try:
            yield
        finally:
            self.unpaid = False

    def _line(self, order_ref: str, ref: str) -> Line | None:
        order = self.orders.get(order_ref)
        if order is None:
            return None
        return next((line for part in order.parts for line in part.lines
                     if line_ref(order.number, line.product) == ref), None)

    def _order(self, order: ShopOrder) -> Order:
        name, _email, _artist = PEOPLE[order.buyer]
        return Order(
            ref=order.number, number=order.number, buyer_ref=order.buyer, buyer_name=name,
            buyer_email=self.address(order.buyer), buyer_locale=self.language(order.buyer),
            currency=order.currency, placed_at=order.placed_at,
            parts=tuple(OrderPart(
                artist_ref=part.artist, stage=part.stage, delivery_cost=part.delivery_cost,
                delivered_at=part.delivered_at, paid=Decimal("0") if self.unpaid else None,
                lines=tuple(OrderLine(
                    ref=line_ref(order.number, line.product), product_ref=line.product, product_name=line.product,
                    variant=line.variant, quantity=line.quantity, unit_price=Decimal(PRODUCTS[line.product][1]),
                    currency=order.currency, returnable=line.product not in self.final_sale,
                ) for line in part.lines),
            ) for part in order.parts),
        )
