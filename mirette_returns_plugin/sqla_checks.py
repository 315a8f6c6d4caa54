"""Checking a :class:`~mirette_returns_plugin.sqla_mapping.ShopMapping` against the shop's models.

:func:`validate` runs when the ready adapter is built: every model, attribute
and column type the mapping names is checked, and every problem is reported
at once, each with its fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeGuard

import sqlalchemy as sa

from .adapter import Stage
from .errors import ConfigurationError
from .sqla_mapping import Field, ShopMapping, is_expression


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


class _Map(Protocol):
    """Any of the maps: each names the model of the shop it reads."""

    @property
    def model(self) -> object: ...


class _Checker:
    """Collects what is wrong, with a suggestion for each name."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def model(self, where: str, model: object) -> None:
        if not isinstance(model, type) or sa.inspect(model, raiseerr=False) is None:
            self.problems.append(f"ShopMapping.{where}.model must be a mapped model class, not {model!r}.")

    def column(self, where: str, part: _Map, name: str) -> None:
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

    def field(self, where: str, part: _Map, name: str) -> None:
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

    def typed(self, where: str, part: _Map, name: str, kind: tuple[tuple[type, ...], str]) -> None:
        """A field naming a column must name one whose type holds what the field means."""
        value = getattr(part, name)
        model = part.model
        if not isinstance(value, str) or not _is_mapped(model):
            return
        column: sa.ColumnElement[Any] | None = sa.inspect(model).columns.get(value)
        held = _python_type(column) if column is not None else None
        accepted, words = kind
        if column is None or held is None:
            return
        if issubclass(held, accepted) and not (held is bool and bool not in accepted):
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


def _is_mapped(model: object) -> TypeGuard[type]:
    return isinstance(model, type) and sa.inspect(model, raiseerr=False) is not None


def column_names(model: type) -> list[str]:
    """The model's column attributes, by attribute name."""
    return list(sa.inspect(model).columns.keys())


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
