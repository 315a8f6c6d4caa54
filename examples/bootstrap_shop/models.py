"""Harbour Prints' tables, as a typical Flask shop keeps them.

Integer keys, Flask-Login's ``UserMixin``, prices in ``Numeric``, and the
order's progress in two integer columns, one for the payment and one for the
shipping, as payment providers and shipping labels report them. There is no
delivery date: the shop only knows it shipped. Nothing here knows about
mirette-returns.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class PaymentStatus:
    """``Order.payment_status`` codes."""

    UNPAID = 0
    PAID = 1
    REFUNDED = 2

    LABELS: ClassVar[dict[int, str]] = {UNPAID: "Awaiting payment", PAID: "Paid", REFUNDED: "Refunded"}


class ShippingStatus:
    """``Order.shipping_status`` codes."""

    NEW = 0
    PACKING = 1
    SHIPPED = 2
    DELIVERED = 3
    CANCELLED = 9

    LABELS: ClassVar[dict[int, str]] = {NEW: "Not yet processed", PACKING: "Being packed", SHIPPED: "Shipped",
                                        DELIVERED: "Delivered", CANCELLED: "Cancelled"}


class User(UserMixin, db.Model):
    __tablename__ = "harbour_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    #: The artist and her studio assistant: they answer as the shop.
    is_staff: Mapped[bool] = mapped_column(default=False)
    #: Steps in when a buyer and the studio disagree.
    is_admin: Mapped[bool] = mapped_column(default=False)


class Product(db.Model):
    __tablename__ = "harbour_product"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    #: Commissions are made to order: a final sale.
    made_to_order: Mapped[bool] = mapped_column(default=False)


class Order(db.Model):
    __tablename__ = "harbour_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("harbour_user.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime)
    #: PaymentStatus code.
    payment_status: Mapped[int] = mapped_column(sa.Integer, default=PaymentStatus.UNPAID)
    #: ShippingStatus code.
    shipping_status: Mapped[int] = mapped_column(sa.Integer, default=ShippingStatus.NEW)
    #: What the payment provider captured (0 until paid).
    amount_paid: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), default=Decimal("0"))
    shipping_cost: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), default=Decimal("0"))


class OrderItem(db.Model):
    __tablename__ = "harbour_order_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("harbour_order.id"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("harbour_product.id"))
    quantity: Mapped[int] = mapped_column()
    price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))


class ProviderRefund(db.Model):
    """A refund asked of the payment provider, confirmed later by its webhook."""

    __tablename__ = "harbour_provider_refund"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The plugin's idempotency key: the provider refunds once per key.
    idempotency_key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    order_number: Mapped[str] = mapped_column(sa.String(20))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    provider_ref: Mapped[str] = mapped_column(sa.String(40))
    succeeded: Mapped[bool] = mapped_column(default=False)
