"""The Corner Tea House's own tables.

Deliberately plain: UUID primary keys, prices in pence, the order status as
an integer code, and no foreign key or relationship between tables (lines
point at their purchase by a bare UUID column). Nothing here knows about
mirette-returns.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class CornerBase(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=CornerBase)


class Status:
    """Order status codes, as the shop's till has always stored them."""

    PAID = 10
    PACKING = 20
    POSTED = 30
    DELIVERED = 40
    CANCELLED = 90

    LABELS: ClassVar[dict[int, str]] = {PAID: "Paid", PACKING: "Being packed", POSTED: "Posted", DELIVERED: "Delivered",
              CANCELLED: "Cancelled"}


class Member(db.Model):
    __tablename__ = "corner_member"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    #: "customer", "staff" (packs and answers) or "owner" (also handles disputes).
    role: Mapped[str] = mapped_column(sa.String(16), default="customer")
    language: Mapped[str] = mapped_column(sa.String(8), default="en")


class Tea(db.Model):
    __tablename__ = "corner_tea"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(sa.String(200))
    blurb: Mapped[str] = mapped_column(sa.Text, default="")
    price_pence: Mapped[int] = mapped_column(sa.Integer)
    #: Comma-separated pack sizes ("50 g,100 g"), empty for a single size.
    sizes: Mapped[str] = mapped_column(sa.String(100), default="")
    #: Gift cards are a final sale.
    is_gift_card: Mapped[bool] = mapped_column(default=False)
    colour: Mapped[str] = mapped_column(sa.String(7), default="#7a8b5c")

    def size_list(self) -> list[str]:
        return [size.strip() for size in self.sizes.split(",") if size.strip()]


class Purchase(db.Model):
    __tablename__ = "corner_purchase"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(sa.String(16), unique=True)
    member_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    #: One of the :class:`Status` codes.
    status: Mapped[int] = mapped_column(sa.Integer, default=Status.PAID)
    #: Naive UTC, as the till writes them.
    placed_at: Mapped[datetime] = mapped_column(sa.DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    postage_pence: Mapped[int] = mapped_column(sa.Integer, default=0)


class PurchaseLine(db.Model):
    __tablename__ = "corner_purchase_line"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    purchase_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    tea_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    size: Mapped[str | None] = mapped_column(sa.String(20))
    qty: Mapped[int] = mapped_column(sa.Integer)
    price_pence: Mapped[int] = mapped_column(sa.Integer)


class TillRefund(db.Model):
    """A refund the owner pays back by hand at the till, once per key."""

    __tablename__ = "corner_till_refund"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    purchase_number: Mapped[str] = mapped_column(sa.String(16))
    amount_pence: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime)
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
