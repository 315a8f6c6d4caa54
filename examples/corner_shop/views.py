"""The Corner Tea House's own pages: shelf, sign-in, purchases, till."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.security import check_password_hash

from mirette_returns_plugin import MiretteReturnsError, confirm_refund

from .auth import sign_in, sign_out, signed_in_member
from .models import Member, Purchase, PurchaseLine, Status, Tea, TillRefund, db

corner = Blueprint("corner", __name__)


@corner.app_context_processor
def shop_context() -> dict[str, object]:
    return {"member": signed_in_member(), "Status": Status}


def staff_only(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        member = signed_in_member()
        if member is None or member.role not in ("staff", "owner"):
            abort(404)
        return view(*args, **kwargs)

    return wrapper


@corner.route("/")
def shelf():
    teas = db.session.scalars(sa.select(Tea).order_by(Tea.title)).all()
    return render_template("corner/shelf.html", teas=teas)


@corner.route("/teas/<uuid:tea_id>")
def tea(tea_id: uuid.UUID):
    item = db.session.get(Tea, tea_id) or abort(404)
    return render_template("corner/tea.html", tea=item)


@corner.route("/teas/<uuid:tea_id>.svg")
def tea_image(tea_id: uuid.UUID):
    item = db.session.get(Tea, tea_id) or abort(404)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="10" '
           f'fill="{item.colour}"/><path d="M16 26h28v10a14 14 0 0 1-28 0z M44 30h4a5 5 0 0 1 0 10h-5" '
           f'fill="none" stroke="#fff" stroke-width="3"/></svg>')
    return Response(svg, mimetype="image/svg+xml")


@corner.route("/returns-policy")
def returns_policy():
    from .returns_adapter import POLICY

    return render_template("corner/policy.html", policy=POLICY)


@corner.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()
        found = db.session.scalar(sa.select(Member).where(Member.email == email))
        if found is not None and check_password_hash(found.password_hash, request.form.get("password") or ""):
            target = request.args.get("next") or ""
            safe = target if target.startswith("/") and not target.startswith("//") else url_for("corner.purchases")
            return sign_in(redirect(safe), found)
        error = "That email and password do not match."
    return render_template("corner/login.html", error=error), 401 if error else 200


@corner.route("/logout", methods=["POST"])
def logout():
    return sign_out(redirect(url_for("corner.shelf")))


@corner.route("/account/purchases")
def purchases():
    member = signed_in_member()
    if member is None:
        return redirect(url_for("corner.login", next=request.path))
    rows = db.session.scalars(
        sa.select(Purchase).where(Purchase.member_id == member.id).order_by(Purchase.placed_at.desc())
    ).all()
    return render_template("corner/purchases.html", purchases=rows)


@corner.route("/account/purchases/<number>")
def purchase(number: str):
    member = signed_in_member()
    if member is None:
        return redirect(url_for("corner.login", next=request.path))
    found = db.session.scalar(sa.select(Purchase).where(Purchase.number == number))
    if found is None or found.member_id != member.id:
        abort(404)
    lines = db.session.scalars(sa.select(PurchaseLine).where(PurchaseLine.purchase_id == found.id)).all()
    tea_ids = {line.tea_id for line in lines}
    teas = {tea.id: tea for tea in db.session.scalars(sa.select(Tea).where(Tea.id.in_(tea_ids)))}
    return render_template("corner/purchase.html", purchase=found, lines=lines, teas=teas)


@corner.route("/till")
@staff_only
def till():
    open_purchases = db.session.scalars(
        sa.select(Purchase).where(Purchase.status.in_([Status.PAID, Status.PACKING, Status.POSTED]))
        .order_by(Purchase.placed_at)
    ).all()
    refunds = db.session.scalars(sa.select(TillRefund).order_by(TillRefund.created_at.desc())).all()
    return render_template("corner/till.html", purchases=open_purchases, refunds=refunds)


#: The till's buttons: which status each moves a purchase to.
NEXT_STATUS = {"pack": (Status.PAID, Status.PACKING), "post": (Status.PACKING, Status.POSTED),
               "deliver": (Status.POSTED, Status.DELIVERED)}


@corner.route("/till/purchases/<number>", methods=["POST"])
@staff_only
def move_purchase(number: str):
    found = db.session.scalar(sa.select(Purchase).where(Purchase.number == number).with_for_update())
    step = NEXT_STATUS.get(request.form.get("step", ""))
    if found is None or step is None or found.status != step[0]:
        flash(f"{number} has changed meanwhile; nothing was done.")
        return redirect(url_for("corner.till"))
    found.status = step[1]
    if step[1] == Status.DELIVERED:
        found.delivered_at = datetime.now(timezone.utc).replace(tzinfo=None)
    db.session.commit()
    flash(f"{number}: {Status.LABELS[step[1]]}.")
    return redirect(url_for("corner.till"))


@corner.route("/till/refunds/<key>/paid", methods=["POST"])
@staff_only
def refund_paid(key: str):
    row = db.session.scalar(sa.select(TillRefund).where(TillRefund.key == key)) or abort(404)
    if row.paid_at is None:
        row.paid_at = datetime.now(timezone.utc).replace(tzinfo=None)
        db.session.commit()
    try:
        # Tells mirette-returns the money moved: the request becomes "Refunded".
        confirm_refund(row.key, reference=f"till-{str(row.id)[:8]}")
    except MiretteReturnsError as error:
        flash(error.message)
    else:
        flash(f"Refund of {row.purchase_number} marked as paid.")
    return redirect(url_for("corner.till"))
