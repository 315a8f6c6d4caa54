"""The demo shop's own tables: a small marketplace of artists.

Nothing here knows about the plugin; the plugin sees these rows only through
:class:`~mirette_returns_plugin.demo.adapter.DemoShopAdapter`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """The shop's dates: timezone-aware UTC on every database.

    SQLite and MariaDB keep no offset, so values are stored as naive UTC and
    handed back aware (the shop's own type, as any shop has one).
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[datetime]:
        # MariaDB's DATETIME keeps whole seconds unless told otherwise.
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class ShopBase(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=ShopBase)

if TYPE_CHECKING:
    # A type checker cannot take an attribute (``db.Model``) as a base class.
    # ``db.Model`` is built from ShopBase and adds no column or method the
    # tables use, so to the checker the tables are ShopBase's.
    ShopModel = ShopBase
else:
    ShopModel = db.Model

MONEY = sa.Numeric(10, 2)


class Account(ShopModel):
    __tablename__ = "shop_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    locale: Mapped[str] = mapped_column(sa.String(8), default="en")
    is_support: Mapped[bool] = mapped_column(default=False)
    artist_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shop_artist.id"))
    artist: Mapped[ArtistProfile | None] = relationship()


class ArtistProfile(ShopModel):
    __tablename__ = "shop_artist"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254))
    craft: Mapped[str] = mapped_column(sa.String(200), default="")
    return_window_days: Mapped[int | None] = mapped_column(default=14)
    refunds_delivery: Mapped[bool] = mapped_column(default=False)
    return_shipping_paid_by: Mapped[str] = mapped_column(sa.String(10), default="buyer")
    restocking_fee_percent: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal("0"))
    policy_text: Mapped[str] = mapped_column(sa.Text, default="")
    products: Mapped[list[Product]] = relationship(back_populates="artist")


class Product(ShopModel):
    __tablename__ = "shop_product"
    id: Mapped[int] = mapped_column(primary_key=True)
    artist_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_artist.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    image: Mapped[str] = mapped_column(sa.String(200), default="")
    price: Mapped[Decimal] = mapped_column(MONEY)
    final_sale: Mapped[bool] = mapped_column(default=False)
    artist: Mapped[ArtistProfile] = relationship(back_populates="products")
    variants: Mapped[list[Variant]] = relationship(back_populates="product", order_by="Variant.id")


class Variant(ShopModel):
    __tablename__ = "shop_variant"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_product.id"))
    name: Mapped[str] = mapped_column(sa.String(120))
    price: Mapped[Decimal | None] = mapped_column(MONEY)
    product: Mapped[Product] = relationship(back_populates="variants")


class ShopOrder(ShopModel):
    __tablename__ = "shop_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_account.id"))
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    buyer: Mapped[Account] = relationship()
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order", order_by="Shipment.id")

    @property
    def total(self) -> Decimal:
        """What the buyer paid: every part with its delivery."""
        return sum((shipment.total for shipment in self.shipments), Decimal("0"))


class Shipment(ShopModel):
    """One artist's part of an order and how far it went."""

    __tablename__ = "shop_shipment"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"))
    artist_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_artist.id"))
    #: paid, accepted, shipped, delivered, cancelled
    state: Mapped[str] = mapped_column(sa.String(16), default="paid")
    delivery_cost: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    order: Mapped[ShopOrder] = relationship(back_populates="shipments")
    artist: Mapped[ArtistProfile] = relationship()
    lines: Mapped[list[ShopOrderLine]] = relationship(back_populates="shipment", order_by="ShopOrderLine.id")

    @property
    def items_total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0"))

    @property
    def total(self) -> Decimal:
        return self.items_total + (self.delivery_cost or Decimal("0"))


class ShopOrderLine(ShopModel):
    __tablename__ = "shop_order_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_shipment.id"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_product.id"))
    variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shop_variant.id"))
    quantity: Mapped[int] = mapped_column()
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()
    variant: Mapped[Variant | None] = relationship()

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


class PaymentRefund(ShopModel):
    """The demo's stand-in for a payment provider: one row per refund key."""

    __tablename__ = "shop_payment_refund"
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(sa.String(3))
    paid: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the plugin refunds: ``return``, ``exchange`` or ``cancellation``.
    kind: Mapped[str | None] = mapped_column(sa.String(16))
    artist_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shop_artist.id"))
    order: Mapped[ShopOrder] = relationship()
    artist: Mapped[ArtistProfile | None] = relationship()
