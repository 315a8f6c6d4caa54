"""The demo shop's own pages (the storefront around the plugin)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from .models import Account, ArtistProfile, Product, ShopOrder, db

HERE = Path(__file__).parent

demo = Blueprint(
    "demo",
    __name__,
    template_folder=str(HERE / "templates"),
    static_folder=str(HERE / "static"),
    static_url_path="/demo-static",
)


@demo.route("/")
def index():
    return redirect(url_for("demo.orders"))


@demo.route("/orders")
def orders():
    account = _account()
    if account is None:
        return redirect(url_for("demo.switch"))
    rows = db.session.scalars(
        db.select(ShopOrder).where(ShopOrder.buyer_id == account.id).order_by(ShopOrder.placed_at.desc())
    ).all()
    return render_template("demo/orders.html", orders=rows, account=account)


@demo.route("/orders/<int:order_id>")
def order(order_id: int):
    account = _account()
    shop_order = db.session.get(ShopOrder, order_id)
    if shop_order is None or account is None or shop_order.buyer_id != account.id:
        abort(404)
    return render_template("demo/order.html", order=shop_order, account=account)


@demo.route("/products/<int:product_id>")
def product(product_id: int):
    item = db.session.get(Product, product_id) or abort(404)
    return render_template("demo/product.html", product=item, account=_account())


@demo.route("/artists/<int:artist_id>")
def artist(artist_id: int):
    profile = db.session.get(ArtistProfile, artist_id) or abort(404)
    return render_template("demo/artist.html", artist=profile, account=_account())


@demo.route("/switch", methods=["GET", "POST"])
def switch():
    if request.method == "POST":
        account = db.session.get(Account, request.form.get("account_id", type=int) or 0)
        if account is not None:
            session["account_id"] = account.id
            return redirect(url_for("demo.index"))
    accounts = db.session.scalars(db.select(Account).order_by(Account.id)).all()
    return render_template("demo/switch.html", accounts=accounts, account=_account())


def _account() -> Account | None:
    account_id = session.get("account_id")
    return db.session.get(Account, account_id) if account_id else None
