"""Refund amounts under an artist's return policy."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .adapter import OrderLine, OrderPart, ReturnPolicy

CENT = Decimal("0.01")

#: An amount as a person types it: digits, then at most two decimals after a
#: point or a comma (``12.50``, ``12,50``), a minus sign allowed so that it can
#: be refused in words. No thousands separator: ``1,250`` would read as 1.25
#: in French and 1250 in English, so it is refused rather than guessed.
_TYPED_AMOUNT = re.compile(r"(-?)(\d{1,10})(?:[.,](\d{1,2}))?")


@dataclass(frozen=True)
class RefundPreview:
    """What a refund pays, line by line, shown before the buyer submits."""

    items: Decimal
    restocking_fee: Decimal
    delivery: Decimal
    currency: str
    #: What is left out because the buyer has not paid it.
    unpaid: Decimal = Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.items - self.restocking_fee + self.delivery - self.unpaid


def cap_to_paid(preview: RefundPreview, paid: Decimal | None) -> RefundPreview:
    """The same refund, never more than ``paid`` (``None``: everything was paid)."""
    if paid is None or preview.total <= paid:
        return preview
    over = preview.total - max(paid, Decimal("0"))
    return replace(preview, unpaid=over.quantize(CENT, ROUND_HALF_UP))


def preview_return(policy: ReturnPolicy, part: OrderPart, line: OrderLine, quantity: int, *,
                   seller_fault: bool = False, paid_left: Decimal | None = None) -> RefundPreview:
    """Refund for ``quantity`` units of ``line`` under ``policy``.

    No restocking fee is kept when the reason is the artist's fault
    (``seller_fault``: a wrong, damaged or non-compliant item).

    The delivery costs, when the policy refunds them, are shared by unit over
    the whole part and rounded down, so requests on the same part never add
    up to more than the buyer paid. ``paid_left``, what the buyer paid for
    the part less what other requests already refund, caps the total.
    """
    items = (line.unit_price * quantity).quantize(CENT, ROUND_HALF_UP)
    fee = Decimal("0.00")
    if not seller_fault:
        fee = (items * policy.restocking_fee_percent / 100).quantize(CENT, ROUND_HALF_UP)
    delivery = Decimal("0.00")
    if policy.refunds_delivery_costs and part.delivery_cost:
        units = sum(each.quantity for each in part.lines) or 1
        delivery = (part.delivery_cost * quantity / units).quantize(CENT, ROUND_DOWN)
    preview = RefundPreview(items=items, restocking_fee=fee, delivery=delivery, currency=line.currency)
    return cap_to_paid(preview, paid_left)


def preview_cancellation(part: OrderPart, currency: str) -> RefundPreview:
    """A refused order is refunded in full, delivery included, up to what was paid."""
    items = sum((line.unit_price * line.quantity for line in part.lines), Decimal("0"))
    return cap_to_paid(RefundPreview(
        items=items.quantize(CENT, ROUND_HALF_UP),
        restocking_fee=Decimal("0.00"),
        delivery=(part.delivery_cost or Decimal("0")).quantize(CENT, ROUND_HALF_UP),
        currency=currency,
    ), part.paid)


def parse_amount(typed: object) -> Decimal | None:
    """An amount typed in a form, as a ``Decimal`` with cents, or ``None`` if
    it is not one. Spaces (a French ``1 250,00``) are ignored."""
    text = re.sub(r"\s", "", str(typed or ""))
    found = _TYPED_AMOUNT.fullmatch(text)
    if found is None:
        return None
    sign, units, cents = found.groups()
    return Decimal(f"{sign}{units}.{(cents or '').ljust(2, '0')}")
