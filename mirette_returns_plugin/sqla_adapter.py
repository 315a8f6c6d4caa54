"""A ready adapter for shops built on Flask-SQLAlchemy, configured by a mapping.

::

    from mirette_returns_plugin.sqla_adapter import (
        LineMap, OrderMap, ShopMapping, SingleSeller, SQLAlchemyShopAdapter, UserMap)

    adapter = SQLAlchemyShopAdapter(ShopMapping(
        order=OrderMap(Order, buyer_ref="customer_id", stage="status"),
        line=LineMap(OrderItem, name="title"),
        users=UserMap(current=lambda: g.customer, model=Customer),
        seller=SingleSeller(ref="shop", name="My shop", email="help@shop.example"),
        stages={"paid": Stage.PENDING, "shipped": Stage.SHIPPED, "cancelled": Stage.CANCELLED},
        initiate_refund=refund_with_my_payment_provider,
    ))
    MiretteReturns(app, adapter=adapter)

It implements :class:`~mirette_returns_plugin.adapter.ShopAdapter` by querying
the shop's models with plain column equality: no relationship, no foreign key
is needed, and ids may be integers, strings or UUIDs. Reading an order (or all
of a buyer's orders) costs the same few queries however many lines it has.

Where a shop's shape is unusual, subclass it and override only that method;
the hand-written :class:`~mirette_returns_plugin.adapter.ShopAdapter` stays
the foundation.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from .adapter import (
    Artist,
    ExchangeOption,
    Order,
    OrderLine,
    OrderPart,
    RefundOrder,
    RefundResult,
    ReturnPolicy,
    Stage,
    User,
)
from .errors import AdapterError, ConfigurationError
from .i18n import gettext as _
from .sqla_mapping import (
    ArtistMap,
    Constant,
    Field,
    LineMap,
    OrderMap,
    PartMap,
    ProductMap,
    ShopMapping,
    SingleSeller,
    UserMap,
    constant,
    is_expression,
    refused_value,
    validate,
)

__all__ = [
    "ArtistMap",
    "Constant",
    "LineMap",
    "OrderMap",
    "PartMap",
    "ProductMap",
    "SQLAlchemyShopAdapter",
    "ShopMapping",
    "SingleSeller",
    "UserMap",
    "constant",
]

_INTEGER = re.compile(r"-?[0-9]{1,19}")


class SQLAlchemyShopAdapter:
    """A :class:`~mirette_returns_plugin.adapter.ShopAdapter` built from a :class:`ShopMapping`.

    The mapping is checked here, so a wrong attribute name fails when the
    shop builds the adapter (at import or in its app factory), not in a page.
    """

    def __init__(self, mapping: ShopMapping) -> None:
        overrides_refund = type(self).initiate_refund is not SQLAlchemyShopAdapter.initiate_refund
        validate(mapping, has_refund_method=overrides_refund)
        self.mapping = mapping

    # ------------------------------------------------------------------ #
    # The ShopAdapter protocol
    # ------------------------------------------------------------------ #

    def current_user(self) -> User | None:
        row = self.mapping.users.current()
        # Flask-Login hands an anonymous user object rather than None.
        if row is None or getattr(row, "is_authenticated", True) is False:
            return None
        return self.user_from_row(row)

    def orders_for_buyer(self, buyer_ref: str) -> list[Order]:
        order = self.mapping.order
        buyer_column = getattr(order.model, order.buyer_ref)
        key = to_key(buyer_column, buyer_ref)
        if key is None:
            return []
        rows = self.session.scalars(sa.select(order.model).where(buyer_column == key)).all()
        # Sorted here: ``placed_at`` may be a function rather than a column.
        return sorted(self.build_orders(rows), key=lambda o: o.placed_at, reverse=True)

    def get_order(self, order_ref: str) -> Order | None:
        row = self.find_order_row(order_ref)
        return self.build_orders([row])[0] if row is not None else None

    def get_order_for_buyer(self, order_ref: str, buyer_ref: str) -> Order | None:
        row = self.find_order_row(order_ref, buyer_ref=buyer_ref)
        return self.build_orders([row])[0] if row is not None else None

    def get_artist(self, artist_ref: str) -> Artist | None:
        mapping = self.mapping
        if mapping.seller is not None:
            return self._seller_artist(mapping.seller) if artist_ref == mapping.seller.ref else None
        artists = mapping.artists
        assert artists is not None  # checked by validate()
        column = getattr(artists.model, artists.id)
        key = to_key(column, artist_ref)
        row = self.session.scalar(sa.select(artists.model).where(column == key)) if key is not None else None
        if row is None:
            return None
        ref = str(getattr(row, artists.id))
        policy = artists.policy(row) if callable(artists.policy) else artists.policy
        return Artist(
            ref=ref,
            name=_text(read(row, artists.name)),
            email=_text(read(row, artists.email)),
            policy=self._with_url(policy, ref),
            locale=_optional_text(read(row, artists.locale)),
        )

    def exchange_options(self, order_ref: str, line_ref: str) -> list[ExchangeOption]:
        options = self.mapping.exchange_options
        if options is None:
            return []
        line = self.find_line_row(order_ref, line_ref)
        return list(options(line)) if line is not None else []

    def support_emails(self) -> list[str]:
        configured = self.mapping.support_emails
        if callable(configured):
            return list(configured())
        if configured is not None:
            return list(configured)
        users = self.mapping.users
        if users.model is None or not isinstance(users.is_support, str) or not isinstance(users.email, str):
            return []
        flag = sa.inspect(users.model).columns.get(users.is_support)
        if flag is None or not isinstance(flag.type, sa.Boolean):
            return []
        model = users.model
        return list(self.session.scalars(
            sa.select(getattr(model, users.email)).where(getattr(model, users.is_support)).order_by(
                getattr(model, users.id))
        ))

    def refuse_part(self, order_ref: str, artist_ref: str) -> None:
        mapping = self.mapping
        if mapping.refuse_part is not None:
            mapping.refuse_part(order_ref, artist_ref)
            return
        row, stage_field = self._lock_stage_row(order_ref, artist_ref)
        if row is None:
            raise AdapterError(_("This order has no items from this seller."))
        if self.stage_of(row, stage_field) != Stage.PENDING:
            raise AdapterError(_("This part of the order was already processed; it cannot be refused."))
        # Same session as the plugin: this write commits (or rolls back) with it.
        if mapping.refuse_writes is not None:
            for column, value in mapping.refuse_writes.items():
                setattr(row, column, value)
        else:
            assert isinstance(stage_field, str)  # a derived stage needs refuse_writes, checked by validate()
            setattr(row, stage_field, refused_value(mapping))

    def initiate_refund(self, refund: RefundOrder) -> RefundResult:
        hook = self.mapping.initiate_refund
        if hook is None:  # validate() refuses this unless a subclass overrides the method
            raise ConfigurationError("ShopMapping.initiate_refund is missing.")
        return hook(refund)

    def shop_name(self) -> str | None:
        """The single seller's name; a marketplace names itself in ``MIRETTE_RETURNS_SHOP_NAME``."""
        return self.mapping.seller.name if self.mapping.seller is not None else None

    def is_marketplace(self) -> bool:
        return self.mapping.seller is None

    def order_url(self, order_ref: str) -> str | None:
        return self.mapping.order_url(order_ref) if self.mapping.order_url else None

    def product_url(self, product_ref: str) -> str | None:
        return self.mapping.product_url(product_ref) if self.mapping.product_url else None

    def artist_url(self, artist_ref: str) -> str | None:
        return self.mapping.artist_url(artist_ref) if self.mapping.artist_url else None

    # ------------------------------------------------------------------ #
    # Building blocks a subclass may use or override
    # ------------------------------------------------------------------ #

    @property
    def session(self) -> Session:
        """The shop's Flask-SQLAlchemy session (shared with the plugin)."""
        return current_app.extensions["sqlalchemy"].session

    def user_from_row(self, row: Any) -> User:
        """The plugin's view of one of the shop's users."""
        mapping, users = self.mapping, self.mapping.users
        artist_ref = None
        if mapping.seller is not None:
            if users.is_seller is not None and read(row, users.is_seller):
                artist_ref = mapping.seller.ref
        elif users.artist_ref is not None:
            artist_ref = _optional_text(read(row, users.artist_ref))
        return User(
            ref=str(getattr(row, users.id)),
            name=_text(read(row, users.name)),
            email=_text(read(row, users.email)),
            locale=_optional_text(read(row, users.locale)),
            artist_ref=artist_ref,
            is_support=bool(read(row, users.is_support)) if users.is_support is not None else False,
        )

    def find_order_row(self, order_ref: str, *, buyer_ref: str | None = None) -> Any | None:
        """The order's row; with ``buyer_ref``, only if that buyer placed it (in the same query)."""
        order = self.mapping.order
        column = getattr(order.model, order.ref or order.id)
        key = to_key(column, order_ref)
        if key is None:
            return None
        query = sa.select(order.model).where(column == key)
        if buyer_ref is not None:
            buyer_column = getattr(order.model, order.buyer_ref)
            buyer_key = to_key(buyer_column, buyer_ref)
            if buyer_key is None:
                return None
            query = query.where(buyer_column == buyer_key)
        return self.session.scalar(query)

    def find_line_row(self, order_ref: str, line_ref: str) -> Any | None:
        """A line of the shop, only if it belongs to that order."""
        mapping, line = self.mapping, self.mapping.line
        order_row = self.find_order_row(order_ref)
        line_column = getattr(line.model, line.id)
        key = to_key(line_column, line_ref)
        if order_row is None or key is None:
            return None
        row = self.session.scalar(sa.select(line.model).where(line_column == key))
        if row is None:
            return None
        order_id = str(getattr(order_row, mapping.order.id))
        if line.part_ref is not None and mapping.parts is not None:
            parts = mapping.parts
            part_column = getattr(parts.model, parts.id)
            part = self.session.scalar(sa.select(parts.model).where(
                part_column == to_key(part_column, str(getattr(row, line.part_ref)))))
            belongs = part is not None and str(getattr(part, parts.order_ref)) == order_id
        else:
            belongs = line.order_ref is not None and str(getattr(row, line.order_ref)) == order_id
        return row if belongs else None

    def stage_of(self, row: Any, stage_field: Field) -> Stage:
        """The plugin's stage for the shop's stage value on ``row`` (a column's, or a derived one)."""
        value = read(row, stage_field)
        try:
            return self.mapping.stages[value]
        except (KeyError, TypeError):
            known = ", ".join(repr(key) for key in self.mapping.stages)
            source = (f"{type(row).__name__}.{stage_field}" if isinstance(stage_field, str)
                      else f"The stage of {type(row).__name__} {getattr(row, 'id', '')}".rstrip())
            raise ConfigurationError(
                f"{source} is {value!r}, which ShopMapping.stages does not map to a "
                f"Stage (it maps {known}). Add it, e.g. stages={{..., {value!r}: Stage.SHIPPED}}."
            ) from None

    def build_orders(self, rows: Sequence[Any]) -> list[Order]:
        """The plugin's orders for the shop's order rows, in a fixed number of queries."""
        if not rows:
            return []
        mapping = self.mapping
        order_ids = [getattr(row, mapping.order.id) for row in rows]
        part_rows = self._part_rows(order_ids)
        line_rows = self._line_rows(order_ids, part_rows)
        products = self._product_rows(line_rows)
        buyers = self._buyer_rows(rows)
        lines_by_owner: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for line in line_rows:
            lines_by_owner[self._line_owner(line, products)].append(line)
        paid = {**self._paid_by_expression(mapping.order, rows), **self._paid_by_expression(mapping.parts, part_rows)}
        return [self._order(row, part_rows, lines_by_owner, products, buyers, paid) for row in rows]

    # ------------------------------------------------------------------ #
    # Internals
    # ------------------------------------------------------------------ #

    def _part_rows(self, order_ids: list[Any]) -> list[Any]:
        parts = self.mapping.parts
        if parts is None:
            return []
        model = parts.model
        return list(self.session.scalars(
            sa.select(model).where(_in(getattr(model, parts.order_ref), order_ids)).order_by(getattr(model, parts.id))
        ))

    def _line_rows(self, order_ids: list[Any], part_rows: list[Any]) -> list[Any]:
        line, model = self.mapping.line, self.mapping.line.model
        if line.part_ref is not None and self.mapping.parts is not None:
            part_ids = [getattr(part, self.mapping.parts.id) for part in part_rows]
            if not part_ids:
                return []
            condition = _in(getattr(model, line.part_ref), part_ids)
        else:
            assert line.order_ref is not None  # checked by validate()
            condition = _in(getattr(model, line.order_ref), order_ids)
        return list(self.session.scalars(sa.select(model).where(condition).order_by(getattr(model, line.id))))

    def _product_rows(self, line_rows: list[Any]) -> dict[str, Any]:
        product = self.mapping.product
        if product is None or not line_rows:
            return {}
        column = getattr(product.model, product.id)
        keys = {to_key(column, read(line, self.mapping.line.product_ref)) for line in line_rows}
        keys.discard(None)
        if not keys:
            return {}
        rows = self.session.scalars(sa.select(product.model).where(column.in_(keys)))
        return {str(getattr(row, product.id)): row for row in rows}

    def _buyer_rows(self, order_rows: Sequence[Any]) -> dict[str, Any]:
        order, users = self.mapping.order, self.mapping.users
        if users.model is None or None not in (order.buyer_name, order.buyer_email, order.buyer_locale):
            return {}
        column = getattr(users.model, users.id)
        keys = {to_key(column, getattr(row, order.buyer_ref)) for row in order_rows}
        keys.discard(None)
        rows = self.session.scalars(sa.select(users.model).where(column.in_(keys))) if keys else []
        return {str(getattr(row, users.id)): row for row in rows}

    def _line_owner(self, line: Any, products: dict[str, Any]) -> tuple[str, str]:
        """What a line is grouped under: ``("part", part id)`` or ``(order id, seller ref)``."""
        mapping, line_map = self.mapping, self.mapping.line
        if mapping.parts is not None and line_map.part_ref is not None:
            return ("part", str(getattr(line, line_map.part_ref)))
        order_id = str(getattr(line, line_map.order_ref)) if line_map.order_ref else ""
        if mapping.seller is not None:
            return (order_id, mapping.seller.ref)
        return (order_id, self._line_seller(line, products))

    def _line_seller(self, line: Any, products: dict[str, Any]) -> str:
        line_map, product = self.mapping.line, self.mapping.product
        if line_map.artist_ref is not None:
            return _text(read(line, line_map.artist_ref))
        product_row = products.get(str(read(line, line_map.product_ref)))
        if product is None or product.artist_ref is None or product_row is None:
            return ""
        return _text(read(product_row, product.artist_ref))

    def _paid_by_expression(self, source: OrderMap | PartMap | None, rows: Sequence[Any]) -> dict[Any, Any]:
        """``source.paid`` when it is a SQL expression, per row, in one query."""
        if source is None or not is_expression(source.paid) or not rows:
            return {}
        id_column = getattr(source.model, source.id)
        ids = [getattr(row, source.id) for row in rows]
        found = self.session.execute(sa.select(id_column, source.paid).where(id_column.in_(ids)))
        as_flag = isinstance(source.paid.type, sa.Boolean)  # SQLite answers 1 or 0
        return {(source.model, key): (bool(value) if as_flag and value is not None else value)
                for key, value in found}

    def _paid(self, row: Any, source: OrderMap | PartMap, paid: dict[Any, Any]) -> Decimal | None:
        if is_expression(source.paid):
            value = paid.get((source.model, getattr(row, source.id)))
        else:
            value = read(row, source.paid)
        if value is None or value is True:
            return None
        return Decimal("0") if value is False else _decimal(value)

    def _order(self, row: Any, part_rows: list[Any], lines_by_owner: dict[tuple[str, str], list[Any]],
               products: dict[str, Any], buyers: dict[str, Any], paid: dict[Any, Any] | None = None) -> Order:
        mapping, order = self.mapping, self.mapping.order
        order_id = str(getattr(row, order.id))
        currency = _text(read(row, order.currency))
        placed_at = _utc(read(row, order.placed_at)) or datetime.fromtimestamp(0, timezone.utc)
        parts: list[OrderPart] = []
        if mapping.parts is not None:
            part_map = mapping.parts
            for part in part_rows:
                if str(getattr(part, part_map.order_ref)) != order_id:
                    continue
                artist_ref = str(getattr(part, part_map.artist_ref))
                owner = (("part", str(getattr(part, part_map.id))) if mapping.line.part_ref is not None
                         else (order_id, artist_ref))
                parts.append(self._part(part, part_map, part_map.stage, artist_ref,
                                        lines_by_owner.get(owner, []), products, currency, placed_at, paid or {}))
        else:
            assert order.stage is not None  # checked by validate()
            sellers = [seller for (owner_order, seller) in lines_by_owner if owner_order == order_id]
            if mapping.seller is not None and not sellers:
                sellers = [mapping.seller.ref]
            for seller in sellers:
                parts.append(self._part(row, order, order.stage, seller, lines_by_owner.get((order_id, seller), []),
                                        products, currency, placed_at, paid or {}))
        buyer_ref = str(getattr(row, order.buyer_ref))
        buyer = buyers.get(buyer_ref)
        users = mapping.users
        return Order(
            ref=str(getattr(row, order.ref or order.id)),
            number=_text(read(row, order.number)),
            buyer_ref=buyer_ref,
            buyer_name=_text(_read_either(row, order.buyer_name, buyer, users.name)),
            buyer_email=_text(_read_either(row, order.buyer_email, buyer, users.email)),
            buyer_locale=_optional_text(_read_either(row, order.buyer_locale, buyer, users.locale)),
            currency=currency,
            placed_at=placed_at,
            parts=tuple(parts),
        )

    def _part(self, row: Any, source: OrderMap | PartMap, stage_field: Field, artist_ref: str,
              lines: list[Any], products: dict[str, Any], currency: str, placed_at: datetime,
              paid: dict[Any, Any] | None = None) -> OrderPart:
        return OrderPart(
            artist_ref=artist_ref,
            stage=self.stage_of(row, stage_field),
            lines=tuple(self._line(line, products, currency) for line in lines),
            delivery_cost=_decimal(read(row, source.delivery_cost)),
            delivered_at=_utc(read(row, source.delivered_at)),
            window_from=self._window_from(row, source, placed_at),
            paid=self._paid(row, source, paid or {}),
        )

    def _window_from(self, row: Any, source: OrderMap | PartMap, placed_at: datetime) -> datetime | None:
        """Where the return window starts for a shop that keeps no delivery date.

        A mapped ``delivered_at`` that is empty means "not delivered yet": the
        window has not started. Without the column at all, the window counts
        from the shipping (or processing) date, else from the order date, so
        it still ends.
        """
        if source.delivered_at is not None:
            return None
        return _utc(read(row, source.shipped_at)) or placed_at

    def _line(self, row: Any, products: dict[str, Any], currency: str) -> OrderLine:
        line, product = self.mapping.line, self.mapping.product
        product_ref = _text(read(row, line.product_ref))
        product_row = products.get(product_ref)

        def either(line_field: Field | None, product_field: Field | None) -> Any:
            if line_field is not None:
                return read(row, line_field)
            if product_field is not None and product_row is not None:
                return read(product_row, product_field)
            return None

        name = either(line.name, product.name if product else None)
        returnable = either(line.returnable, product.returnable if product else None)
        return OrderLine(
            ref=str(getattr(row, line.id)),
            product_ref=product_ref,
            product_name=_text(name) or _("Item %(ref)s", ref=product_ref),
            quantity=int(read(row, line.quantity) or 0),
            unit_price=_decimal(read(row, line.unit_price)),
            currency=currency,
            variant=_optional_text(read(row, line.variant)),
            image_url=_optional_text(either(line.image_url, product.image_url if product else None)),
            returnable=True if returnable is None else bool(returnable),
        )

    def _lock_stage_row(self, order_ref: str, artist_ref: str) -> tuple[Any | None, Field]:
        """The row holding the stage of this seller's part, locked until commit."""
        mapping = self.mapping
        order_row = self.find_order_row(order_ref)
        order_id = getattr(order_row, mapping.order.id) if order_row is not None else None
        if mapping.parts is not None:
            parts = mapping.parts
            artist_column = getattr(parts.model, parts.artist_ref)
            artist_key = to_key(artist_column, artist_ref)
            if order_row is None or artist_key is None:
                return None, parts.stage
            order_column = getattr(parts.model, parts.order_ref)
            query = sa.select(parts.model).where(order_column == to_key(order_column, str(order_id)),
                                                 artist_column == artist_key)
            stage_attribute = parts.stage
        else:
            assert mapping.seller is not None and mapping.order.stage is not None  # checked by validate()
            if order_row is None or artist_ref != mapping.seller.ref:
                return None, mapping.order.stage
            query = sa.select(mapping.order.model).where(getattr(mapping.order.model, mapping.order.id) == order_id)
            stage_attribute = mapping.order.stage
        row = self.session.scalar(query.with_for_update().execution_options(populate_existing=True))
        return row, stage_attribute

    def _seller_artist(self, seller: SingleSeller) -> Artist:
        return Artist(ref=seller.ref, name=seller.name, email=seller.email,
                      policy=self._with_url(seller.policy, seller.ref), locale=seller.locale)

    def _with_url(self, policy: ReturnPolicy, artist_ref: str) -> ReturnPolicy:
        # The seller's page is where their terms of sale are: link it by default.
        if policy.url is None and self.mapping.artist_url is not None:
            return replace(policy, url=self.mapping.artist_url(artist_ref))
        return policy


# --------------------------------------------------------------------------- #
# Reading values
# --------------------------------------------------------------------------- #


def read(row: Any, field: Field | None) -> Any:
    """The value a mapping field gives for ``row`` (``None`` for no field)."""
    if field is None:
        return None
    if isinstance(field, str):
        return getattr(row, field)
    return field(row)


def _read_either(row: Any, own: Field | None, other_row: Any | None, other: Field | None) -> Any:
    if own is not None:
        return read(row, own)
    return read(other_row, other) if other_row is not None else None


def _in(column: Any, values: Sequence[Any]) -> Any:
    """``column IN values``, each value converted to the column's type (no FK needed to match)."""
    keys = {to_key(column, str(value)) for value in values}
    keys.discard(None)
    return column.in_(keys)


def to_key(column: Any, ref: object) -> Any | None:
    """The plugin's text ``ref`` as a value of ``column``'s type, or ``None`` if it cannot be one."""
    if ref is None:
        return None
    if not isinstance(ref, str):
        return ref
    try:
        python_type = column.type.python_type
    except (AttributeError, NotImplementedError):
        return ref
    try:
        if python_type is int:
            number = int(ref) if _INTEGER.fullmatch(ref) else None
            # Out of the column's range the database would fail, not find nothing.
            return number if number is not None and abs(number) < _integer_limit(column) else None
        if python_type is uuid.UUID:
            return uuid.UUID(ref)
        if python_type is str:
            return ref
        return python_type(ref)
    except (TypeError, ValueError, ArithmeticError):
        return None


def _integer_limit(column: Any) -> int:
    column_type = column.type
    if isinstance(column_type, sa.SmallInteger):
        return 2**15
    if isinstance(column_type, sa.BigInteger):
        return 2**63
    return 2**31


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal("0")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)

