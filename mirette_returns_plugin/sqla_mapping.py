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
is the type of the columns named for dates, quantities, prices and stages: a
wrong one raises :class:`~mirette_returns_plugin.errors.ConfigurationError`
naming the map, the field, the column and the fix.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Union

import sqlalchemy as sa

from .adapter import ExchangeOption, RefundOrder, RefundResult, ReturnPolicy, Stage
from .errors import ConfigurationError


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
Field = Union[str, Callable[[Any], Any], Constant]

#: What was paid: a :data:`Field`, a SQL expression, or ``None`` for "all of it".
Paid = Union[Field, sa.ColumnElement[Any], None]


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


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #


def validate(mapping: ShopMapping, *, has_refund_method: bool = False) -> None:
    """Check every model and attribute the mapping names; raise with the fix."""
    problems: list[str] = []
    check = _Checker(problems)

    order = mapping.order
    check.model("order", order.model)
    for name in ("id", "ref", "buyer_ref"):
        check.column("order", order, name)
    for name in ("number", "placed_at", "currency", "buyer_name", "buyer_email", "buyer_locale",
                 "delivered_at", "shipped_at", "delivery_cost", "stage"):
        check.field("order", order, name)
    for name in ("placed_at", "delivered_at", "shipped_at"):
        check.typed("order", order, name, DATES)
    check.typed("order", order, "delivery_cost", NUMBERS)

    line = mapping.line
    check.model("line", line.model)
    for name in ("id", "order_ref", "part_ref"):
        check.column("line", line, name)
    for name in ("artist_ref", "product_ref", "quantity", "unit_price", "name", "variant", "image_url",
                 "returnable"):
        check.field("line", line, name)
    check.typed("line", line, "quantity", WHOLE_NUMBERS)
    check.typed("line", line, "unit_price", NUMBERS)
    if line.order_ref is None and line.part_ref is None:
        problems.append("ShopMapping.line: give LineMap(order_ref=...) or LineMap(part_ref=...), the column "
                        "that ties a line to its order or to its part.")

    if mapping.product is not None:
        product = mapping.product
        check.model("product", product.model)
        check.column("product", product, "id")
        for name in ("name", "image_url", "returnable", "artist_ref"):
            check.field("product", product, name)
    elif line.name is None:
        problems.append("ShopMapping.line.name is needed when there is no ShopMapping.product: give "
                        "LineMap(name='title') or ShopMapping(product=ProductMap(Product)).")

    users = mapping.users
    if not callable(users.current):
        problems.append("ShopMapping.users.current must be a function returning the signed-in user (or None).")
    if users.model is not None:
        check.model("users", users.model)
        check.column("users", users, "id")
        for name in ("name", "email", "locale", "artist_ref", "is_seller", "is_support"):
            check.field("users", users, name)
    elif None in (order.buyer_name, order.buyer_email):
        problems.append("ShopMapping.users.model is needed to read the buyers' names and emails: give "
                        "UserMap(model=Customer, ...), or OrderMap(buyer_name=..., buyer_email=...) "
                        "when orders keep them.")

    _check_sellers(mapping, check, problems)
    _check_stages(mapping, problems)
    _check_stage_source(mapping, problems)
    _check_paid(mapping, check)

    if mapping.initiate_refund is None and not has_refund_method:
        problems.append("ShopMapping.initiate_refund is missing: give a function(RefundOrder) -> RefundResult "
                        "that starts the refund in your shop, or override SQLAlchemyShopAdapter.initiate_refund.")
    for name in ("exchange_options", "initiate_refund", "refuse_part", "order_url", "product_url", "artist_url"):
        value = getattr(mapping, name)
        if value is not None and not callable(value):
            problems.append(f"ShopMapping.{name} must be a function, not {value!r}.")
    if problems:
        raise ConfigurationError("The ShopMapping does not fit your models:\n- " + "\n- ".join(problems))


def _check_sellers(mapping: ShopMapping, check: _Checker, problems: list[str]) -> None:
    order, line = mapping.order, mapping.line
    if mapping.seller is not None:
        if mapping.parts is not None or mapping.artists is not None:
            problems.append("ShopMapping: give either seller=SingleSeller(...) or parts/artists, not both.")
        if order.stage is None:
            problems.append("ShopMapping.order.stage is needed for a single seller: name the order's "
                            "status column, e.g. OrderMap(stage='status').")
        if mapping.users.artist_ref is not None:
            problems.append("ShopMapping.users.artist_ref is for marketplaces; for a single seller give "
                            "UserMap(is_seller='is_staff') instead.")
    elif mapping.artists is None:
        problems.append("ShopMapping needs to know who sells: seller=SingleSeller(ref='shop', name=..., "
                        "email=...) for a shop that sells everything itself, or artists=ArtistMap(Artist) "
                        "(with parts=PartMap(...) when orders are split by seller).")
    else:
        check.model("artists", mapping.artists.model)
        check.column("artists", mapping.artists, "id")
        for name in ("name", "email", "locale"):
            check.field("artists", mapping.artists, name)
        if mapping.users.is_seller is not None:
            problems.append("ShopMapping.users.is_seller is for a single seller; on a marketplace give "
                            "UserMap(artist_ref='artist_id').")
    if mapping.parts is not None:
        parts = mapping.parts
        check.model("parts", parts.model)
        for name in ("id", "order_ref", "artist_ref"):
            check.column("parts", parts, name)
        for name in ("delivered_at", "shipped_at", "delivery_cost", "stage"):
            check.field("parts", parts, name)
        for name in ("delivered_at", "shipped_at"):
            check.typed("parts", parts, name, DATES)
        check.typed("parts", parts, "delivery_cost", NUMBERS)
    elif mapping.seller is None and mapping.artists is not None:
        if order.stage is None:
            problems.append("ShopMapping.order.stage is needed when there is no part model: name the "
                            "order's status column, or give parts=PartMap(...).")
        if line.artist_ref is None and (mapping.product is None or mapping.product.artist_ref is None):
            problems.append("ShopMapping: say who sells each line: LineMap(artist_ref=...), "
                            "ProductMap(artist_ref=...), or parts=PartMap(...).")
        if mapping.refuse_part is None:
            problems.append("ShopMapping.refuse_part is needed when several sellers share one order stage: "
                            "give a function(order_ref, artist_ref) that cancels that seller's items.")
    if line.part_ref is not None and mapping.parts is None:
        problems.append("ShopMapping.line.part_ref needs ShopMapping.parts=PartMap(...).")


def _check_paid(mapping: ShopMapping, check: _Checker) -> None:
    for where, part in (("order", mapping.order), ("parts", mapping.parts)):
        if part is not None and not is_expression(part.paid):
            check.field(where, part, "paid")


def is_expression(value: object) -> bool:
    """A SQL expression (``Order.paid_cents >= Order.total_cents``), read in one query per page."""
    return isinstance(value, sa.ColumnElement)


def _check_stages(mapping: ShopMapping, problems: list[str]) -> None:
    wrong = [value for value in mapping.stages.values() if not isinstance(value, Stage)]
    if wrong:
        problems.append(f"ShopMapping.stages must map to Stage members (Stage.PENDING, ...), not {wrong!r}.")
    if not mapping.stages:
        problems.append("ShopMapping.stages is empty: map each of your status values to a Stage, "
                        "e.g. {'paid': Stage.PENDING, 'shipped': Stage.SHIPPED}.")
    if mapping.refuse_part is None and mapping.refuse_writes is None and mapping.refused_stage_value is None:
        cancelled = [key for key, stage in mapping.stages.items() if stage == Stage.CANCELLED]
        if len(cancelled) != 1:
            problems.append("ShopMapping.refused_stage_value is needed: the default refuse_part writes it to "
                            "the stage column, and stages maps "
                            f"{'no value' if not cancelled else 'several values'} to Stage.CANCELLED.")
    elif mapping.refused_stage_value is not None and mapping.stages.get(mapping.refused_stage_value) \
            != Stage.CANCELLED:
        problems.append(f"ShopMapping.refused_stage_value {mapping.refused_stage_value!r} must be one that "
                        "stages maps to Stage.CANCELLED.")


def stage_source(mapping: ShopMapping) -> tuple[str, type, Field | None]:
    """Where the stage is read: the map's name, its model and its ``stage`` field."""
    if mapping.parts is not None:
        return "parts", mapping.parts.model, mapping.parts.stage
    return "order", mapping.order.model, mapping.order.stage


def writable_stage_column(model: type, stage: Field | None) -> bool:
    """Whether ``stage`` names a plain table column, which the default refusal can write."""
    return isinstance(stage, str) and isinstance(sa.inspect(model).columns.get(stage), sa.Column)


def _check_stage_source(mapping: ShopMapping, problems: list[str]) -> None:
    """The stage's column type fits the ``stages`` keys; a derived stage says how a refusal is written."""
    where, model, stage = stage_source(mapping)
    if stage is None or not _is_mapped(model) or (isinstance(stage, str) and not hasattr(model, stage)):
        return  # nothing to read, or already reported as a wrong name
    column = sa.inspect(model).columns.get(stage) if isinstance(stage, str) else None
    if column is not None:
        wanted = _python_type(column)
        wrong = [key for key in mapping.stages if wanted is not None and not isinstance(key, wanted)]
        if wrong:
            problems.append(
                f"ShopMapping.stages: ShopMapping.{where}.stage names {model.__name__}.{stage}, a "
                f"{column.type} column holding {wanted.__name__} values, but stages maps {wrong[0]!r} "
                f"({type(wrong[0]).__name__}). Key stages by the values the column holds.")
    if mapping.refuse_part is not None:
        return
    if mapping.refuse_writes is not None:
        columns = column_names(model)
        for name in mapping.refuse_writes:
            if name not in columns:
                problems.append(f"ShopMapping.refuse_writes: {model.__name__} has no column {name!r}"
                                f"{_suggest(name, columns)}. Name the columns the refusal writes on "
                                f"{model.__name__} ({', '.join(columns)}).")
    elif not writable_stage_column(model, stage):
        what = "a function" if callable(stage) else "not a plain column (a SQL expression or a property)"
        problems.append(f"ShopMapping.refuse_writes is needed: ShopMapping.{where}.stage is {what}, which a "
                        "refusal cannot write. Give the columns to write, e.g. "
                        "refuse_writes={'shipping_status': 9}, or a refuse_part function.")


def refused_value(mapping: ShopMapping) -> Any:
    if mapping.refused_stage_value is not None:
        return mapping.refused_stage_value
    return next(key for key, stage in mapping.stages.items() if stage == Stage.CANCELLED)


class _Checker:
    """Collects what is wrong, with a suggestion for each name."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def model(self, where: str, model: object) -> None:
        if not isinstance(model, type) or sa.inspect(model, raiseerr=False) is None:
            self.problems.append(f"ShopMapping.{where}.model must be a mapped model class, not {model!r}.")

    def column(self, where: str, part: object, name: str) -> None:
        attribute = getattr(part, name)
        model = part.model
        if attribute is None or not _is_mapped(model):
            return
        if not isinstance(attribute, str):
            self.problems.append(f"ShopMapping.{where}.{name} must name a column of {model.__name__} "
                                 f"(the adapter queries by it), not {attribute!r}.")
            return
        columns = column_names(model)
        if attribute not in columns:
            self.problems.append(
                f"ShopMapping.{where}.{name}: {model.__name__} has no column {attribute!r}"
                f"{_suggest(attribute, columns)}. Name one of its columns ({', '.join(columns)}), "
                f"or add the column to {model.__name__}."
            )

    def field(self, where: str, part: object, name: str) -> None:
        value = getattr(part, name)
        model = part.model
        if value is None or callable(value) or not _is_mapped(model):
            return
        if not isinstance(value, str):
            self.problems.append(f"ShopMapping.{where}.{name} must be an attribute name, a function of the "
                                 f"row or constant(...), not {value!r}.")
        elif not hasattr(model, value):
            names = [n for n in dir(model) if not n.startswith("_")]
            self.problems.append(
                f"ShopMapping.{where}.{name}: {model.__name__} has no attribute {value!r}"
                f"{_suggest(value, names)}. Name one of its attributes, a function of the row "
                f"(lambda row: ...), or constant({value!r}) if {value!r} is the value itself."
            )

    def typed(self, where: str, part: object, name: str, kind: tuple[tuple[type, ...], str]) -> None:
        """A field naming a column must name one whose type holds what the field means."""
        value = getattr(part, name)
        model = part.model
        if not isinstance(value, str) or not _is_mapped(model):
            return
        column = sa.inspect(model).columns.get(value)
        held = _python_type(column) if column is not None else None
        accepted, words = kind
        if held is None or (issubclass(held, accepted) and not (held is bool and bool not in accepted)):
            return
        self.problems.append(
            f"ShopMapping.{where}.{name}: {model.__name__}.{value} is a {column.type} column ({held.__name__}), "
            f"but {name} must be {words}. Name a column that holds {words}, or a function of the row "
            "(lambda row: ...) that converts it.")


#: What a column named for each kind of field must hold (for the messages: the words).
DATES = ((datetime, date), "a date and time")
NUMBERS = ((int, float, Decimal), "a number")
WHOLE_NUMBERS = ((int,), "a whole number")


def _python_type(column: Any) -> type | None:
    """What the column's values are in Python; ``None`` when the type does not say."""
    column_type = column.type
    # A shop's own type (a UTC datetime, say) wraps a standard one that does say.
    held = getattr(column_type, "python_type", None) if not isinstance(column_type, sa.TypeDecorator) else None
    try:
        held = column_type.python_type if held is None else held
        if held is object and isinstance(column_type, sa.TypeDecorator):
            held = column_type.impl_instance.python_type
    except (AttributeError, NotImplementedError):
        return None
    return None if held is object else held


def _is_mapped(model: object) -> bool:
    return isinstance(model, type) and sa.inspect(model, raiseerr=False) is not None


def column_names(model: type) -> list[str]:
    """The model's column attributes, by attribute name."""
    return list(sa.inspect(model).columns.keys())


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""

