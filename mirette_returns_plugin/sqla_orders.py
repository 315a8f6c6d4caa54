"""Turning the shop's order rows into the plugin's orders, in a fixed number of queries.

:class:`OrderBuilder` is the half of
:class:`~mirette_returns_plugin.sqla_adapter.SQLAlchemyShopAdapter` that reads:
orders, their parts and lines, the products and buyers they name. A subclass
of the adapter may override any of its methods.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from sqlalchemy.orm import scoped_session

from .adapter import Order, OrderLine, OrderPart, Stage
from .errors import ConfigurationError
from .i18n import gettext as _
from .sqla_mapping import Field, OrderMap, PartMap, ShopMapping, is_expression
from .sqla_values import as_decimal, as_utc, column_in, optional_text, read, read_either, text, to_key


class OrderBuilder:
    """Reads the shop's orders as :class:`~mirette_returns_plugin.adapter.Order` values."""

    mapping: ShopMapping

    @property
    def session(self) -> scoped_session[Session]:
        """The shop's Flask-SQLAlchemy session (shared with the plugin)."""
        db: SQLAlchemy = current_app.extensions["sqlalchemy"]
        return db.session

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
        condition = column_in(getattr(model, parts.order_ref), order_ids)
        return list(self.session.scalars(sa.select(model).where(condition).order_by(getattr(model, parts.id))))

    def _line_rows(self, order_ids: list[Any], part_rows: list[Any]) -> list[Any]:
        line, model = self.mapping.line, self.mapping.line.model
        if line.part_ref is not None and self.mapping.parts is not None:
            part_ids = [getattr(part, self.mapping.parts.id) for part in part_rows]
            if not part_ids:
                return []
            condition = column_in(getattr(model, line.part_ref), part_ids)
        else:
            assert line.order_ref is not None  # checked by validate()
            condition = column_in(getattr(model, line.order_ref), order_ids)
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
        rows: Sequence[Any] = self.session.scalars(sa.select(product.model).where(column.in_(keys))).all()
        return {str(getattr(row, product.id)): row for row in rows}

    def _buyer_rows(self, order_rows: Sequence[Any]) -> dict[str, Any]:
        order, users = self.mapping.order, self.mapping.users
        if users.model is None or None not in (order.buyer_name, order.buyer_email, order.buyer_locale):
            return {}
        column = getattr(users.model, users.id)
        keys = {to_key(column, getattr(row, order.buyer_ref)) for row in order_rows}
        keys.discard(None)
        rows: Sequence[Any] = self.session.scalars(sa.select(users.model).where(column.in_(keys))).all() if keys else []
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
            return text(read(line, line_map.artist_ref))
        product_row = products.get(str(read(line, line_map.product_ref)))
        if product is None or product.artist_ref is None or product_row is None:
            return ""
        return text(read(product_row, product.artist_ref))

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
        if isinstance(source.paid, sa.ColumnElement):  # read by _paid_by_expression
            value = paid.get((source.model, getattr(row, source.id)))
        else:
            value = read(row, source.paid)
        if value is None or value is True:
            return None
        return Decimal("0") if value is False else as_decimal(value)

    def _order(self, row: Any, part_rows: list[Any], lines_by_owner: dict[tuple[str, str], list[Any]],
               products: dict[str, Any], buyers: dict[str, Any], paid: dict[Any, Any] | None = None) -> Order:
        mapping, order = self.mapping, self.mapping.order
        order_id = str(getattr(row, order.id))
        currency = text(read(row, order.currency))
        placed_at = as_utc(read(row, order.placed_at)) or datetime.fromtimestamp(0, timezone.utc)
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
            number=text(read(row, order.number)),
            buyer_ref=buyer_ref,
            buyer_name=text(read_either(row, order.buyer_name, buyer, users.name)),
            buyer_email=text(read_either(row, order.buyer_email, buyer, users.email)),
            buyer_locale=optional_text(read_either(row, order.buyer_locale, buyer, users.locale)),
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
            delivery_cost=as_decimal(read(row, source.delivery_cost)),
            delivered_at=as_utc(read(row, source.delivered_at)),
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
        return as_utc(read(row, source.shipped_at)) or placed_at

    def _line(self, row: Any, products: dict[str, Any], currency: str) -> OrderLine:
        line, product = self.mapping.line, self.mapping.product
        product_ref = text(read(row, line.product_ref))
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
            product_name=text(name) or _("Item %(ref)s", ref=product_ref),
            quantity=int(read(row, line.quantity) or 0),
            unit_price=as_decimal(read(row, line.unit_price)),
            currency=currency,
            variant=optional_text(read(row, line.variant)),
            image_url=optional_text(either(line.image_url, product.image_url if product else None)),
            returnable=True if returnable is None else bool(returnable),
        )
