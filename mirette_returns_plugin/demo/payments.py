"""The demo's stand-in for a payment provider.

The demo's adapter records each refund the plugin asks for as a
:class:`PaymentRefund`; here a person plays the provider and marks it paid,
which is when a real shop calls :func:`mirette_returns_plugin.confirm_refund`.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from .. import MiretteReturnsError, confirm_refund
from .formatting import money
from .forms import csrf_problem
from .guards import bounded_form, staff_only
from .models import PaymentRefund, ShopOrder, db

payments = Blueprint("demo_payments", __name__, url_prefix="/payments")
# Marking a refund paid stands for the payment provider: the staff's page only.
payments.before_request(bounded_form)
payments.before_request(staff_only)


def mark_paid(payment: PaymentRefund) -> bool:
    """Record that the money moved and tell the plugin; ``False`` if it already had.

    The plugin then moves the request to "Refunded" and emails the buyer. Both
    writes share one transaction: if the plugin refuses, nothing is marked.
    """
    if payment.paid:
        return False
    payment.paid = True
    payment.paid_at = datetime.now(timezone.utc)
    confirm_refund(payment.idempotency_key, f"demo-refund-{payment.id}")
    return True


#: Most refunds listed at once (newest first).
LIST_LIMIT = 100


@payments.get("/")
def index() -> str:
    waiting_only = request.args.get("show") == "waiting"
    query = (
        sa.select(PaymentRefund)
        .options(selectinload(PaymentRefund.order).selectinload(ShopOrder.buyer),
                 selectinload(PaymentRefund.artist))
        .order_by(PaymentRefund.created_at.desc(), PaymentRefund.id.desc())
        .limit(LIST_LIMIT)
    )
    if waiting_only:
        query = query.where(PaymentRefund.paid.is_(False))
    rows = db.session.scalars(query).all()
    return render_template("demo/payments.html", payments=rows, waiting_only=waiting_only)


@payments.post("/<int:payment_id>/paid")
def paid(payment_id: int) -> Response | tuple[str, int]:
    problem = csrf_problem()
    if problem:
        return render_template("demo/error.html", message=problem), 400
    payment = db.session.scalar(
        sa.select(PaymentRefund).where(PaymentRefund.id == payment_id).with_for_update()
    )
    if payment is None:
        abort(404)
    amount = money(payment.amount, payment.currency)
    try:
        changed = mark_paid(payment)
    except MiretteReturnsError as error:
        db.session.rollback()
        flash(_("The refund could not be confirmed: %(error)s", error=error.message), "error")
        return redirect(url_for(".index"), 303)
    if changed:
        flash(_("The refund of %(amount)s is paid. The buyer has been emailed.", amount=amount), "success")
    else:
        flash(_("This refund was already paid; nothing changed."), "info")
    return redirect(url_for(".index"), 303)
