"""mirette-returns: cancellations, returns and exchanges for a Flask shop.

Everything a shop needs is importable from here (and from the modules the
docs name: ``sqla_adapter``, ``signals``, ``migrate``, ``sign_in``,
``reasons``, ``celery_tasks``); the other modules are the plugin's own and
may change between versions.
"""

from __future__ import annotations

from .adapter import (
    Artist,
    ExchangeOption,
    Order,
    OrderLine,
    OrderPart,
    RefundOrder,
    RefundResult,
    ReturnPolicy,
    ReturnShippingPayer,
    ShopAdapter,
    Stage,
    User,
)
from .errors import (
    AdapterError,
    ConfigurationError,
    Conflict,
    MiretteReturnsError,
    NotAllowed,
    NotFound,
    ValidationError,
)
from .extension import MiretteReturns
from .outbox import QueuedEmail, outbox_email, outbox_emails, outbox_recipients
from .refunds import confirm_refund
from .send_on_commit import wait_for_background
from .views.limits import abort_on_out_of_range_ids
from .workflow import ReturnForm, perform, post_message, request_cancellation, submit_return

__all__ = [
    "AdapterError",
    "Artist",
    "ConfigurationError",
    "Conflict",
    "ExchangeOption",
    "MiretteReturns",
    "MiretteReturnsError",
    "NotAllowed",
    "NotFound",
    "Order",
    "OrderLine",
    "OrderPart",
    "QueuedEmail",
    "RefundOrder",
    "RefundResult",
    "ReturnForm",
    "ReturnPolicy",
    "ReturnShippingPayer",
    "ShopAdapter",
    "Stage",
    "User",
    "ValidationError",
    "abort_on_out_of_range_ids",
    "confirm_refund",
    "outbox_email",
    "outbox_emails",
    "outbox_recipients",
    "perform",
    "post_message",
    "request_cancellation",
    "submit_return",
    "wait_for_background",
]
