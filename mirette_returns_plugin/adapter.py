"""The contract between the plugin and a shop.

A shop implements :class:`ShopAdapter` over its own models and hands it to
:meth:`MiretteReturns.init_app`. Every method returns the frozen value objects
below, never the shop's ORM rows, so the plugin never touches the shop's
tables and the shop's models may have any shape.

Identifiers (``ref``) are strings on the plugin's side whatever their type in
the shop: an integer id ``42`` is ``"42"``, a UUID is its text form.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable


class Stage(str, enum.Enum):
    """Where one artist's part of an order stands, as the shop knows it."""

    #: Paid, not yet processed by the artist: it can still be cancelled.
    PENDING = "pending"
    #: Accepted and being prepared by the artist: returns are open from here.
    ACCEPTED = "accepted"
    #: Handed to the carrier.
    SHIPPED = "shipped"
    #: Delivered to the buyer; the return window counts from here.
    DELIVERED = "delivered"
    #: Cancelled (refused by the artist, or by the shop).
    CANCELLED = "cancelled"


class ReturnShippingPayer(str, enum.Enum):
    """Who pays to send an item back."""

    BUYER = "buyer"
    ARTIST = "artist"


@dataclass(frozen=True)
class ReturnPolicy:
    """An artist's return policy. It is frozen onto each request at submission."""

    #: Days after delivery during which a return may be asked; ``None``: no limit.
    window_days: int | None = 14
    #: Whether the delivery costs are refunded with the items.
    refunds_delivery_costs: bool = False
    #: Who pays the return shipping.
    return_shipping_paid_by: ReturnShippingPayer = ReturnShippingPayer.BUYER
    #: Percentage kept from the items' value on a return (0 to 100); never
    #: kept when the reason is the artist's fault (damaged, wrong, non-compliant).
    restocking_fee_percent: Decimal = Decimal("0")
    #: The artist's own words, shown wherever the buyer decides.
    text: str = ""
    #: Link to the full terms of sale on the artist's page.
    url: str | None = None
    #: Days the artist gives themselves to answer a request before they are
    #: reminded (business days unless the shop counts calendar days);
    #: ``None``: the shop's ``MIRETTE_RETURNS_ANSWER_DAYS``.
    answer_days: int | None = None


@dataclass(frozen=True)
class User:
    """The person signed in, with every role they hold."""

    ref: str
    name: str
    email: str
    #: Language of emails sent to this user (``"en"``, ``"fr"``, ...).
    locale: str | None = None
    #: The artist this user sells as, if any.
    artist_ref: str | None = None
    #: Member of the marketplace's support team.
    is_support: bool = False


@dataclass(frozen=True)
class OrderLine:
    """One line of an order."""

    ref: str
    product_ref: str
    product_name: str
    quantity: int
    unit_price: Decimal
    currency: str
    variant: str | None = None
    image_url: str | None = None
    #: ``False`` for a final sale: it cannot be returned or exchanged.
    returnable: bool = True


@dataclass(frozen=True)
class OrderPart:
    """The lines of one order that one artist sells, with their stage."""

    artist_ref: str
    stage: Stage
    lines: tuple[OrderLine, ...]
    #: What the buyer paid for this part's delivery.
    delivery_cost: Decimal = Decimal("0")
    #: When the part was delivered, if it was (UTC-aware).
    delivered_at: datetime | None = None
    #: Where the return window starts when there is no ``delivered_at``: set it
    #: for a shop that keeps no delivery date (the ready adapter gives the
    #: shipping date, else the order date). ``None``: the window starts at delivery.
    window_from: datetime | None = None
    #: What the buyer has paid for this part so far. ``None`` (the default)
    #: means all of it; ``Decimal("0")`` means nothing yet (an order waiting
    #: for payment). Refunds never exceed it, and a refused part that was not
    #: paid is cancelled without a refund.
    paid: Decimal | None = None


@dataclass(frozen=True)
class Order:
    """An order as the buyer sees it, split by artist."""

    ref: str
    #: The number printed on the buyer's receipt.
    number: str
    buyer_ref: str
    buyer_name: str
    buyer_email: str
    currency: str
    placed_at: datetime
    parts: tuple[OrderPart, ...]
    buyer_locale: str | None = None

    def part(self, artist_ref: str) -> OrderPart | None:
        return next((p for p in self.parts if p.artist_ref == artist_ref), None)

    def find_line(self, line_ref: str) -> tuple[OrderPart, OrderLine] | None:
        for part in self.parts:
            for line in part.lines:
                if line.ref == line_ref:
                    return part, line
        return None


@dataclass(frozen=True)
class Artist:
    """A seller on the marketplace."""

    ref: str
    name: str
    email: str
    policy: ReturnPolicy = field(default_factory=ReturnPolicy)
    locale: str | None = None


@dataclass(frozen=True)
class ExchangeOption:
    """Something the buyer may ask for instead of the line they bought."""

    ref: str
    label: str
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class RefundOrder:
    """What the plugin asks the shop to refund."""

    #: Chosen by the plugin, stored before the shop is asked, reused on every
    #: retry: the shop must refund at most once per key.
    idempotency_key: str
    order_ref: str
    artist_ref: str
    amount: Decimal
    currency: str
    #: ``(line ref, quantity)`` pairs refunded; empty for a whole cancelled part.
    lines: tuple[tuple[str, int], ...] = ()
    #: ``"return"``, ``"exchange"`` (converted to a refund) or ``"cancellation"``.
    kind: str = "return"


@dataclass(frozen=True)
class RefundResult:
    """The shop's answer to a refund order."""

    #: The shop's or payment provider's reference.
    reference: str | None = None
    #: ``True`` when the money already moved; otherwise the shop calls
    #: :func:`mirette_returns_plugin.confirm_refund` later.
    completed: bool = False


@runtime_checkable
class ShopAdapter(Protocol):
    """What a shop implements so the plugin can work on its orders.

    Read methods return ``None`` (or an empty list) for what does not exist;
    action methods raise :class:`~mirette_returns_plugin.errors.AdapterError`
    with a message for the user when the shop refuses.

    Two more methods are optional, asked when present (see :mod:`.words`);
    settings of the same meaning win over them: ``shop_name() -> str | None``, the name
    buyers read for the shop, and ``is_marketplace() -> bool``, whether
    several sellers share the shop (``True`` when absent).
    """

    def current_user(self) -> User | None:
        """The signed-in user, or ``None`` for an anonymous visitor."""
        ...

    def orders_for_buyer(self, buyer_ref: str) -> list[Order]:
        """The buyer's orders, newest first."""
        ...

    def get_order(self, order_ref: str) -> Order | None:
        """One order with its parts and lines."""
        ...

    def get_order_for_buyer(self, order_ref: str, buyer_ref: str) -> Order | None:
        """The order, only if ``buyer_ref`` bought it (optional).

        Filter by buyer in the query that finds the order, so that someone
        else's order costs what an unknown one does (one query, nothing
        built) and the time of a 404 says nothing. Without it the plugin
        calls ``get_order`` and compares (see :func:`order_of_buyer`).
        """
        ...

    def get_artist(self, artist_ref: str) -> Artist | None:
        """An artist with their return policy."""
        ...

    def exchange_options(self, order_ref: str, line_ref: str) -> list[ExchangeOption]:
        """What the buyer may ask for instead of this line (other variants...)."""
        ...

    def support_emails(self) -> list[str]:
        """Where escalations are sent."""
        ...

    def refuse_part(self, order_ref: str, artist_ref: str) -> None:
        """Cancel the artist's part of the order, because the buyer asked.

        Called inside the plugin's database transaction, so a shop on the same
        database commits or rolls back together with the plugin. Raise
        ``AdapterError`` if the part was processed meanwhile.
        """
        ...

    def initiate_refund(self, refund: RefundOrder) -> RefundResult:
        """Start a refund. Called outside any database transaction; may be
        called again with the same ``idempotency_key`` after a failure."""
        ...

    def order_url(self, order_ref: str) -> str | None:
        """The shop's page of this order, for the buyer."""
        ...

    def product_url(self, product_ref: str) -> str | None:
        """The shop's page of a product."""
        ...

    def artist_url(self, artist_ref: str) -> str | None:
        """The shop's page of an artist, where their terms of sale are."""
        ...


def order_of_buyer(adapter: ShopAdapter, order_ref: str, buyer_ref: str) -> Order | None:
    """``order_ref`` if ``buyer_ref`` bought it, else ``None``: through the
    adapter's ``get_order_for_buyer`` when it has one, else ``get_order``."""
    for_buyer = getattr(adapter, "get_order_for_buyer", None)
    if callable(for_buyer):
        found: Order | None = for_buyer(order_ref, buyer_ref)
        return found
    order = adapter.get_order(order_ref)
    return order if order is not None and order.buyer_ref == buyer_ref else None


#: The methods every adapter must have; checked at ``init_app``.
REQUIRED_METHODS: tuple[str, ...] = (
    "current_user",
    "orders_for_buyer",
    "get_order",
    "get_artist",
    "exchange_options",
    "support_emails",
    "refuse_part",
    "initiate_refund",
    "order_url",
    "product_url",
    "artist_url",
)
