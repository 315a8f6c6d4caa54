"""A marketplace without a part model, for ``flask mirette-returns init``: the products name their
vendor, the order has one status code (named by constants at the module's top level), and
nothing says who is signed in.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class MarketplaceBase(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=MarketplaceBase)

ORDER_NEW = 0
ORDER_NOT_SHIPPED = 1
ORDER_SHIPPED = 2
ORDER_CANCELLED = 9


class Vendor(db.Model):
    __tablename__ = "mkt_vendor"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(100))
    email = sa.Column(sa.String(254))


class User(db.Model):
    __tablename__ = "mkt_user"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(100))
    email = sa.Column(sa.String(254))
    vendor_id = sa.Column(sa.ForeignKey("mkt_vendor.id"))


class Item(db.Model):
    __tablename__ = "mkt_item"
    id = sa.Column(sa.Integer, primary_key=True)
    title = sa.Column(sa.String(100))
    vendor_id = sa.Column(sa.ForeignKey("mkt_vendor.id"))


class Order(db.Model):
    __tablename__ = "mkt_order"
    id = sa.Column(sa.Integer, primary_key=True)
    user_id = sa.Column(sa.ForeignKey("mkt_user.id"))
    status = sa.Column(sa.Integer, default=ORDER_NEW)
    created_at = sa.Column(sa.DateTime)


class OrderItem(db.Model):
    __tablename__ = "mkt_order_item"
    id = sa.Column(sa.Integer, primary_key=True)
    order_id = sa.Column(sa.ForeignKey("mkt_order.id"))
    item_id = sa.Column(sa.ForeignKey("mkt_item.id"))
    quantity = sa.Column(sa.Integer)
    price = sa.Column(sa.Numeric(8, 2))
