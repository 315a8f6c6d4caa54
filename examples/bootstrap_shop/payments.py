"""The shop's payment provider, as far as refunds go.

A real shop calls its provider's API here; this one records the refund and
answers with the provider's reference. The provider confirms later by
calling the webhook (``webhooks.py``) with a signed event.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from .models import ProviderRefund, db


def refund(order_number: str, amount: Decimal, *, key: str) -> str:
    """Ask for a refund, at most once per ``key``; the provider's reference."""
    row = db.session.scalar(sa.select(ProviderRefund).where(ProviderRefund.idempotency_key == key))
    if row is None:
        row = ProviderRefund(idempotency_key=key, order_number=order_number, amount=amount,
                             provider_ref=f"re_{hashlib.sha256(key.encode()).hexdigest()[:16]}")
        db.session.add(row)
        db.session.flush()
    return row.provider_ref


def signature(body: bytes) -> str:
    """How the provider signs a webhook event: HMAC-SHA256 of the body with the shared secret."""
    secret = current_app.config["PAYMENTS_WEBHOOK_SECRET"].encode()
    return hmac.new(secret, body, hashlib.sha256).hexdigest()
