"""The configuration of the ready adapter: which of the shop's models and
attributes hold what the plugin needs.

A :class:`ShopMapping` is a tree of small frozen dataclasses. Wherever a field
is typed :data:`Field`, it takes

* an attribute name (``"customer_id"``), read on the shop's row;
* a function of the row (``lambda line: Decimal(line.price_pence) / 100``);
* a constant, wrapped so it cannot be mistaken for a name: ``constant("EUR")``.

Fields that the adapter *queries by* (ids, the order ref, the buyer's id)
must name mapped columns. The stage may also be derived from several columns:
a function of the row, or a SQL expression declared on the model as a
``column_property``. Every name is checked when the mapping is built, and so
is the type of the columns named for dates, quantities, prices and stages
(:mod:`~mirette_returns_plugin.sqla_checks`): a wrong one raises
:class:`~mirette_returns_plugin.errors.ConfigurationError` naming the map, the field, the column and the fix.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import sqlalchemy as sa

from .adapter import ExchangeOption, RefundOrder, RefundResult, ReturnPolicy, Stage


@dataclass(frozen=True)
class Constant:
    """A value that is the same for every row (``constant("EUR")``)."""

    value: Any

    def __call__(self, row: object) -> Any:
        return self.value


def constant(value: Any) -> Constant:
    """Wrap a constant so that a string is not read as an attribute name."""
    return Constant(value)


#: An attribute name, a function of the row, or a :class:`Constant`.
Field = str | Callable[[Any], Any] | Constant

#: What was paid: a :data:`Field`, a SQL expression, or ``None`` for "all of it".
Paid = Field | sa.ColumnElement[Any] | None


@dataclass(frozen=True)
class OrderMap:
    """The shop's order."""

    model: type
    #: Column the lines (or parts) point at, usually the primary key.
    id: str = "id"
    #: Column whose text is the order's ref in the plugin's URLs and records:
    #: ``None`` means ``id``; name a unique ``number`` or ``token`` column to
    #: look orders up by it instead.
    ref: str | None = None
    #: The number printed on the receipt.
    number: Field = "number"
    #: Column holding the buyer's user id.
    buyer_ref: str = "buyer_id"
    #: When the order was placed (a naive datetime is taken as UTC).
    placed_at: Field = "placed_at"
    #: Currency code of the order.
    currency: Field = "currency"
    #: The buyer's name, email and language when the order keeps them itself
    #: (guest checkouts); ``None`` reads them on the buyer's user row.
    buyer_name: Field | None = None
    buyer_email: Field | None = None
    buyer_locale: Field | None = None
    #: Without a part model, the order's own stage: a column (or a
    #: ``column_property`` SQL expression) whose values ``ShopMapping.stages``
    #: maps, or a function of the row returning one of those values (a stage
    #: derived from a payment status and a shipping status, say).
    stage: Field | None = None
    #: When the order was delivered. A shop that keeps no delivery date leaves
    #: it out: the return window then counts from ``shipped_at``, else from
    #: ``placed_at``.
    delivered_at: Field | None = None
    #: When the order was shipped (or processed); read only when
    #: ``delivered_at`` is not mapped.
    shipped_at: Field | None = None
    delivery_cost: Field | None = None
    #: What the buyer paid (see "Orders not yet paid" in docs/mount.md): an
    #: amount, ``True`` (all of it) or ``False`` (nothing yet), read by an
    #: attribute name, a function of the row or a SQL expression over the
    #: model's columns. ``None``: everything was paid.
    paid: Paid = None


@dataclass(frozen=True)
class PartMap:
    """One seller's part of an order (a shipment, a sub-order), when the shop has one."""

    model: type
    id: str = "id"
    #: Column holding the order's ``OrderMap.id``.
    order_ref: str = "order_id"
    #: Column holding the seller's ``ArtistMap.id``.
    artist_ref: str = "artist_id"
    #: The part's stage (mapped by ``ShopMapping.stages``): as ``OrderMap.stage``.
    stage: Field = "state"
    delivered_at: Field | None = None
    #: As ``OrderMap.shipped_at``; without either, the window counts from the order date.
    shipped_at: Field | None = None
    delivery_cost: Field | None = None
    #: What the buyer paid (see "Orders not yet paid" in docs/mount.md): an
    #: amount, ``True`` (all of it) or ``False`` (nothing yet), read by an
    #: attribute name, a function of the row or a SQL expression over the
    #: model's columns. ``None``: everything was paid.
    paid: Paid = None


@dataclass(frozen=True)
class SingleSeller:
    """The shop sells everything itself: every order is one part, its own."""

    #: The seller's ref in the plugin's records, e.g. ``"shop"``.
    ref: str
    name: str
    email: str
    policy: ReturnPolicy = field(default_factory=ReturnPolicy)
    locale: str | None = None


@dataclass(frozen=True)
class ArtistMap:
    """The shop's seller (artist) model, on a marketplace."""

    model: type
    id: str = "id"
    name: Field = "name"
    email: Field = "email"
    #: A policy for every seller, or a function of the seller's row.
    policy: ReturnPolicy | Callable[[Any], ReturnPolicy] = field(default_factory=ReturnPolicy)
    locale: Field | None = None


@dataclass(frozen=True)
class LineMap:
    """One line of an order."""

    model: type
    id: str = "id"
    #: Column holding the order's ``OrderMap.id`` (a foreign key or a plain column).
    order_ref: str | None = "order_id"
    #: Column holding the part's ``PartMap.id``, when lines belong to parts.
    part_ref: str | None = None
    #: The seller of the line, when parts are not linked by ``part_ref``
    #: (``None``: the product's ``ProductMap.artist_ref``).
    artist_ref: Field | None = None
    #: The product's id (queried on ``ProductMap.model`` when there is one).
    product_ref: Field = "product_id"
    quantity: Field = "quantity"
    #: Price of one unit, as a ``Decimal`` (or anything ``Decimal(str(x))`` takes).
    unit_price: Field = "unit_price"
    #: ``None``: the product's name.
    name: Field | None = None
    variant: Field | None = None
    image_url: Field | None = None
    #: ``False`` for a final sale. ``None``: the product's, else every line is returnable.
    returnable: Field | None = None


@dataclass(frozen=True)
class ProductMap:
    """The shop's product, read in one query for all the lines of a page."""

    model: type
    id: str = "id"
    name: Field = "name"
    image_url: Field | None = None
    returnable: Field | None = None
    #: The product's seller, on a marketplace whose lines do not say it.
    artist_ref: Field | None = None


@dataclass(frozen=True)
class UserMap:
    """How the signed-in person is found and what they are."""

    #: Returns the shop's user row (or object) for this request, or ``None``.
    #: With Flask-Login: ``lambda: current_user if current_user.is_authenticated else None``.
    current: Callable[[], Any]
    #: The shop's user model, to read buyers' names and emails (not needed
    #: when the order keeps them) and support addresses.
    model: type | None = None
    id: str = "id"
    name: Field = "name"
    email: Field = "email"
    locale: Field | None = None
    #: On a marketplace: the seller this user sells as (``None`` for a buyer).
    artist_ref: Field | None = None
    #: For a single seller: truthy for the shop's staff, who answer as the seller.
    is_seller: Field | None = None
    #: Truthy for the support team.
    is_support: Field | None = None


@dataclass(frozen=True)
class ShopMapping:
    """Everything :class:`~mirette_returns_plugin.sqla_adapter.SQLAlchemyShopAdapter` needs.

    Give exactly one way of splitting orders by seller:

    * ``seller=SingleSeller(...)``: the shop is the only seller; the stage is
      on the order (``OrderMap.stage``);
    * ``parts=PartMap(...)`` and ``artists=ArtistMap(...)``: a marketplace with
      one row per seller and order;
    * ``artists=ArtistMap(...)`` alone: a marketplace whose lines (or
      products) name their seller and whose order has one stage; it must also
      give ``refuse_part``.
    """

    order: OrderMap
    line: LineMap
    users: UserMap
    #: The shop's stage values (text, integer codes, enum members) -> the plugin's stages.
    stages: Mapping[Any, Stage]
    seller: SingleSeller | None = None
    parts: PartMap | None = None
    artists: ArtistMap | None = None
    product: ProductMap | None = None
    #: The value written by the default ``refuse_part``; ``None``: the one
    #: value that ``stages`` maps to ``Stage.CANCELLED``.
    refused_stage_value: Any = None
    #: When the stage is derived (a function or a SQL expression), what the
    #: default ``refuse_part`` writes instead: ``{column: value}`` on the
    #: stage's row, e.g. ``{"shipping_status": 9}``.
    refuse_writes: Mapping[str, Any] | None = None
    #: Addresses of the support team, or a function returning them. ``None``:
    #: the emails of users whose ``UserMap.is_support`` column is true.
    support_emails: Sequence[str] | Callable[[], Sequence[str]] | None = None
    #: ``function(line row) -> [ExchangeOption, ...]``; ``None``: the buyer
    #: describes the replacement in words.
    exchange_options: Callable[[Any], Iterable[ExchangeOption]] | None = None
    #: ``function(RefundOrder) -> RefundResult``: start the refund in the shop.
    initiate_refund: Callable[[RefundOrder], RefundResult] | None = None
    #: ``function(order_ref, artist_ref)`` replacing the default, which locks
    #: the part (or order) row and writes ``refused_stage_value`` to its stage.
    refuse_part: Callable[[str, str], None] | None = None
    #: ``function(ref) -> URL`` of the shop's pages; ``None``: no link.
    order_url: Callable[[str], str | None] | None = None
    product_url: Callable[[str], str | None] | None = None
    artist_url: Callable[[str], str | None] | None = None

    def __post_init__(self) -> None:
        # A read-only copy, so the frozen mapping cannot be changed from outside.
        object.__setattr__(self, "stages", types.MappingProxyType(dict(self.stages)))
        if self.refuse_writes is not None:
            object.__setattr__(self, "refuse_writes", types.MappingProxyType(dict(self.refuse_writes)))


def is_expression(value: object) -> TypeGuard[sa.ColumnElement[Any]]:
    """A SQL expression (``Order.paid_cents >= Order.total_cents``), read in one query per page."""
    return isinstance(value, sa.ColumnElement)


def refused_value(mapping: ShopMapping) -> Any:
    """The stage value a refusal writes: the one given, else the one value mapped to Stage.CANCELLED."""
    if mapping.refused_stage_value is not None:
        return mapping.refused_stage_value
    return next(key for key, stage in mapping.stages.items() if stage == Stage.CANCELLED)
