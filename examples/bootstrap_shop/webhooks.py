"""The payment provider calls here when a refund went through.

The provider cannot send the shop's CSRF token: the view is exempted from the
app-wide ``CSRFProtect`` and checks the provider's signature instead.
"""

from __future__ import annotations

import hmac

import sqlalchemy as sa
from flask import Blueprint, abort, request

from mirette_returns_plugin import confirm_refund

from .models import ProviderRefund, db
from .payments import signature

webhooks = Blueprint("webhooks", __name__)


@webhooks.post("/payments/webhook")
def payment_webhook():
    if not hmac.compare_digest(request.headers.get("X-Signature", ""), signature(request.get_data())):
        abort(400)
    event = request.get_json(force=True)
    if event.get("type") == "refund.succeeded":
        key = str(event.get("idempotency_key", ""))
        row = db.session.scalar(sa.select(ProviderRefund).where(ProviderRefund.idempotency_key == key))
        if row is None:
            abort(404)
        row.succeeded = True
        db.session.commit()
        confirm_refund(key, reference=str(event.get("refund_id", row.provider_ref)))
    return {"received": True}
