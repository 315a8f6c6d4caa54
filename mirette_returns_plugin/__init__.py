"""mirette-returns: cancellations, returns and exchanges for a Flask shop."""

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
from .errors import AdapterError, ConfigurationError
from .extension import MiretteReturns
from .refunds import confirm_refund

__all__ = [
    "AdapterError",
    "Artist",
    "ConfigurationError",
    "ExchangeOption",
    "MiretteReturns",
    "Order",
    "OrderLine",
    "OrderPart",
    "RefundOrder",
    "RefundResult",
    "ReturnPolicy",
    "ReturnShippingPayer",
    "ShopAdapter",
    "Stage",
    "User",
    "confirm_refund",
]
