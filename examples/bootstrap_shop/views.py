"""Harbour Prints' own pages: the prints, sign-in, the buyer's orders."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash

from .models import Order, OrderItem, PaymentStatus, Product, ShippingStatus, User, db

shop = Blueprint("shop", __name__)


@shop.app_context_processor
def shop_context() -> dict[str, object]:
    return {"PaymentStatus": PaymentStatus, "ShippingStatus": ShippingStatus}


@shop.route("/")
def home():
    products = db.session.scalars(sa.select(Product).order_by(Product.title)).all()
    return render_template("shop/home.html", products=products)


@shop.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        user = db.session.scalar(sa.select(User).where(User.email == request.form.get("email", "").strip().lower()))
        if user is not None and check_password_hash(user.password_hash, request.form.get("password", "")):
            login_user(user)
            target = request.args.get("next", "")
            # Only a path of this site: never send the visitor elsewhere.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("shop.orders")
            return redirect(target)
        error = _("Wrong email or password.")
    return render_template("shop/login.html", error=error), 200 if error is None else 400


@shop.post("/logout")
def logout():
    logout_user()
    flash(_("You are signed out."))
    return redirect(url_for("shop.home"))


@shop.route("/orders")
@login_required
def orders():
    rows = db.session.scalars(
        sa.select(Order).where(Order.user_id == current_user.id).order_by(Order.created_at.desc())).all()
    return render_template("shop/orders.html", orders=rows)


@shop.route("/orders/<number>")
@login_required
def order(number: str):
    row = db.session.scalar(sa.select(Order).where(Order.number == number, Order.user_id == current_user.id))
    if row is None:
        abort(404)
    items = db.session.scalars(sa.select(OrderItem).where(OrderItem.order_id == row.id).order_by(OrderItem.id)).all()
    products = {p.id: p for p in db.session.scalars(
        sa.select(Product).where(Product.id.in_([item.product_id for item in items])))}
    return render_template("shop/order.html", order=row, items=items, products=products)
