"""The demo shop's own pages (the storefront around the plugin)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import LoaderOption
from werkzeug.wrappers import Response

from .forms import csrf_problem, safe_next
from .guards import bounded_form
from .locale import LANGUAGES
from .models import Account, ArtistProfile, Product, Shipment, ShopOrder, ShopOrderLine, db
from .personas import HINTS
from .signed_in import current_account

HERE = Path(__file__).parent

#: The largest id any of the demo's databases stores (PostgreSQL's integer):
#: a bigger one typed into a form is no row, not a database error.
MAX_ID = 2**31 - 1

demo = Blueprint(
    "demo",
    __name__,
    template_folder=str(HERE / "templates"),
    static_folder=str(HERE / "static"),
    static_url_path="/demo-static",
)
demo.before_request(bounded_form)


@demo.get("/")
def index() -> str:
    artists = db.session.scalars(
        sa.select(ArtistProfile).options(selectinload(ArtistProfile.products)).order_by(ArtistProfile.id)
    ).all()
    return render_template("demo/index.html", artists=artists)


@demo.get("/orders")
def orders() -> str | Response:
    account = current_account()
    if account is None:
        flash(_("Choose an account to see its orders."), "info")
        return redirect(url_for("demo.switch"))
    rows = db.session.scalars(
        sa.select(ShopOrder)
        .options(_order_details())
        .where(ShopOrder.buyer_id == account.id)
        .order_by(ShopOrder.placed_at.desc())
    ).all()
    return render_template("demo/orders.html", orders=rows)


@demo.get("/orders/<int:order_id>")
def order(order_id: int) -> str | Response:
    account = current_account()
    if account is None:
        flash(_("Choose an account to see its orders."), "info")
        return redirect(url_for("demo.switch"))
    shop_order = db.session.scalar(sa.select(ShopOrder).options(_order_details()).where(ShopOrder.id == order_id))
    # Someone else's order looks exactly like a missing one.
    if shop_order is None or shop_order.buyer_id != account.id:
        abort(404)
    return render_template("demo/order.html", order=shop_order)


@demo.get("/products/<int:product_id>")
def product(product_id: int) -> str:
    item = db.session.get(Product, product_id) or abort(404)
    return render_template("demo/product.html", product=item)


@demo.get("/artists/<int:artist_id>")
def artist(artist_id: int) -> str:
    profile = db.session.get(ArtistProfile, artist_id) or abort(404)
    return render_template("demo/artist.html", artist=profile)


@demo.route("/switch", methods=["GET", "POST"])
def switch() -> Response | tuple[str, int]:
    problem = None
    status = 200
    if request.method == "POST":
        problem = csrf_problem()
        if problem is None:
            chosen_id = request.form.get("account_id", type=int) or 0
            # An id beyond any row is no account (the database would fail on it).
            chosen = db.session.get(Account, chosen_id) if 0 < chosen_id <= MAX_ID else None
            if chosen is not None:
                session["account_id"] = chosen.id
                flash(_("You are now signed in as %(name)s.", name=chosen.name), "success")
                return redirect(_landing_page(chosen), 303)
            problem = _("Choose one of the accounts below.")
        status = 400
    accounts = db.session.scalars(sa.select(Account).order_by(Account.id)).all()
    groups = [
        (_("Buyers"), [a for a in accounts if not a.artist_id and not a.is_support]),
        (_("Artists"), [a for a in accounts if a.artist_id]),
        (_("Support team"), [a for a in accounts if a.is_support]),
    ]
    return render_template("demo/switch.html", groups=groups, hints=HINTS, problem=problem), status


@demo.post("/sign-out")
def sign_out() -> Response | tuple[str, int]:
    problem = csrf_problem()
    if problem:
        return render_template("demo/error.html", message=problem), 400
    session.pop("account_id", None)
    flash(_("You are signed out."), "success")
    return redirect(url_for("demo.index"), 303)


@demo.post("/language")
def language() -> Response | tuple[str, int]:
    back = safe_next(request.form.get("next"), url_for("demo.index"))
    problem = csrf_problem()
    if problem:
        return render_template("demo/error.html", message=problem), 400
    chosen = request.form.get("locale")
    if chosen not in LANGUAGES:
        flash(_("This language is not available."), "error")
        return redirect(back, 303)
    session["locale"] = chosen
    return redirect(back, 303)


def role_label(account: Account | None) -> str:
    """How the header names the signed-in person's role."""
    if account is None:
        return ""
    if account.is_support:
        return _("Support team")
    if account.artist_id:
        return _("Artist")
    return _("Buyer")


def _landing_page(account: Account) -> str:
    """Where each role starts: the support list, the artist's inbox, the buyer's orders."""
    if account.is_support:
        return url_for("mirette_returns.support_list")
    if account.artist_id:
        return url_for("mirette_returns.artist_inbox")
    return url_for("demo.orders")


def _order_details() -> LoaderOption:
    return selectinload(ShopOrder.shipments).options(
        selectinload(Shipment.artist),
        selectinload(Shipment.lines).options(selectinload(ShopOrderLine.product),
                                             selectinload(ShopOrderLine.variant)),
    )
