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

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from .adapter import (
    Artist,
    ExchangeOption,
    Order,
    RefundOrder,
    RefundResult,
    ReturnPolicy,
    Stage,
    User,
)
from .errors import AdapterError, ConfigurationError
from .i18n import gettext as _
from .sqla_checks import validate
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
    refused_value,
)
from .sqla_orders import OrderBuilder
from .sqla_values import optional_text, read, text, to_key

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


class SQLAlchemyShopAdapter(OrderBuilder):
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
        rows: Sequence[Any] = self.session.scalars(sa.select(order.model).where(buyer_column == key)).all()
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
            name=text(read(row, artists.name)),
            email=text(read(row, artists.email)),
            policy=self._with_url(policy, ref),
            locale=optional_text(read(row, artists.locale)),
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
        flag: sa.ColumnElement[Any] | None = sa.inspect(users.model).columns.get(users.is_support)
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

    def user_from_row(self, row: Any) -> User:
        """The plugin's view of one of the shop's users."""
        mapping, users = self.mapping, self.mapping.users
        artist_ref = None
        if mapping.seller is not None:
            if users.is_seller is not None and read(row, users.is_seller):
                artist_ref = mapping.seller.ref
        elif users.artist_ref is not None:
            artist_ref = optional_text(read(row, users.artist_ref))
        return User(
            ref=str(getattr(row, users.id)),
            name=text(read(row, users.name)),
            email=text(read(row, users.email)),
            locale=optional_text(read(row, users.locale)),
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
        query: sa.Select[Any] = sa.select(order.model).where(column == key)
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
            query: sa.Select[Any] = sa.select(parts.model).where(order_column == to_key(order_column, str(order_id)),
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
