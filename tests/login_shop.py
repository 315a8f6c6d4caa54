"""A small shop of the third kind, for ``flask mirette-returns init``: Flask-Login, integer payment
and shipping status codes (named by two classes of constants sharing some codes), prices in
cents, foreign keys, no delivery date, its templates in memory. It does not mount the plugin:
``init`` must work before the plugin is mounted.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import Flask, render_template
from flask_login import LoginManager, UserMixin
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class LoginShopBase(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=LoginShopBase)


class PaymentStatus:
    UNPAID = 0
    PAID = 1
    REFUNDED = 2


class ShippingStatus:
    NOT_SHIPPED = 0
    PACKED = 1
    SHIPPED = 2
    DELIVERED = 3
    CANCELLED = 9


class Customer(UserMixin, db.Model):
    __tablename__ = "lamp_customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255), default="")
    is_admin: Mapped[bool] = mapped_column(default=False)


class Lamp(db.Model):
    __tablename__ = "lamp_product"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    price_cents: Mapped[int] = mapped_column()


class CustomerOrder(db.Model):
    __tablename__ = "lamp_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("lamp_customer.id"))
    payment_status: Mapped[int] = mapped_column(default=PaymentStatus.UNPAID)
    shipping_status: Mapped[int] = mapped_column(default=ShippingStatus.NOT_SHIPPED)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime)
    shipping_cents: Mapped[int] = mapped_column(default=0)
    items: Mapped[list[OrderItem]] = relationship(back_populates="order")


class OrderItem(db.Model):
    __tablename__ = "lamp_order_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("lamp_order.id"))
    lamp_id: Mapped[int] = mapped_column(sa.ForeignKey("lamp_product.id"))
    quantity: Mapped[int] = mapped_column()
    price_cents: Mapped[int] = mapped_column()
    order: Mapped[CustomerOrder] = relationship(back_populates="items")


TEMPLATES = {
    "shop/base.html": "<html><head><title>{% block title %}{% endblock %}</title>{% block head %}{% endblock %}"
                      "</head><body>Lamp Corner {% block content %}{% endblock %}</body></html>",
    "shop/order_detail.html": "{% extends 'shop/base.html' %}{% block content %}Order {{ order.id }}"
                              "{% endblock %}",
}


def create_app(config: dict) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="login-shop-tests", MAIL_DEFAULT_SENDER="Lamp Corner <shop@lamps.example>")
    app.config.update(config)
    app.jinja_loader = DictLoader(TEMPLATES)
    db.init_app(app)
    login = LoginManager(app)

    @login.user_loader
    def load_customer(customer_id: str) -> Customer | None:
        return db.session.get(Customer, int(customer_id))

    @app.get("/orders/<int:order_id>")
    def order_detail(order_id: int):
        return render_template("shop/order_detail.html", order=db.get_or_404(CustomerOrder, order_id))

    return app


def seed() -> None:
    db.drop_all()
    db.create_all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    ann = Customer(display_name="Ann Lee", email="ann@lamps.example")
    staff = Customer(display_name="Owner", email="owner@lamps.example", is_admin=True)
    lamp = Lamp(title="Brass desk lamp", price_cents=8900)
    db.session.add_all([ann, staff, lamp])
    db.session.flush()
    for number, (payment, shipping) in enumerate([(PaymentStatus.PAID, ShippingStatus.DELIVERED),
                                                  (PaymentStatus.PAID, ShippingStatus.NOT_SHIPPED),
                                                  (PaymentStatus.PAID, ShippingStatus.SHIPPED)]):
        order = CustomerOrder(customer_id=ann.id, payment_status=payment, shipping_status=shipping,
                              created_at=now - timedelta(days=5 - number), shipping_cents=500)
        db.session.add(order)
        db.session.flush()
        db.session.add(OrderItem(order_id=order.id, lamp_id=lamp.id, quantity=2, price_cents=8900))
    db.session.commit()
