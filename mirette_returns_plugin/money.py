"""Refund amounts under an artist's return policy."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import cache

from babel.numbers import get_currency_precision

from .adapter import OrderLine, OrderPart, ReturnPolicy


@cache
def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency``, from Babel's currency data.

    1 for JPY, 0.001 for KWD, 0.01 for EUR (and for a code Babel does not
    know). Amounts are rounded to it, so an estimate never shows or stores
    fractions of a yen, nor drops the third decimal of a dinar.
    """
    return Decimal(1).scaleb(-get_currency_precision(currency))

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
    return replace(preview, unpaid=over.quantize(minor_unit(preview.currency), ROUND_HALF_UP))


def preview_return(policy: ReturnPolicy, part: OrderPart, line: OrderLine, quantity: int, *,
                   seller_fault: bool = False, paid_left: Decimal | None = None) -> RefundPreview:
    """Refund for ``quantity`` units of ``line`` under ``policy``.

    No restocking fee is kept when the reason is the artist's fault
    (``seller_fault``: a wrong, damaged or non-compliant item).

    The delivery costs, when the policy refunds them, are shared by unit over
    the whole part and rounded down, so requests on the same part never add
    up to more than the buyer paid. ``paid_left``, what the buyer paid for
    the part less what other requests already refund, caps the total.

    Every amount is rounded to the currency's minor unit (``minor_unit``).
    """
    unit = minor_unit(line.currency)
    items = (line.unit_price * quantity).quantize(unit, ROUND_HALF_UP)
    fee = Decimal(0).quantize(unit)
    if not seller_fault:
        fee = (items * policy.restocking_fee_percent / 100).quantize(unit, ROUND_HALF_UP)
    delivery = Decimal(0).quantize(unit)
    if policy.refunds_delivery_costs and part.delivery_cost:
        units = sum(each.quantity for each in part.lines) or 1
        delivery = (part.delivery_cost * quantity / units).quantize(unit, ROUND_DOWN)
    preview = RefundPreview(items=items, restocking_fee=fee, delivery=delivery, currency=line.currency)
    return cap_to_paid(preview, paid_left)


def preview_cancellation(part: OrderPart, currency: str) -> RefundPreview:
    """A refused order is refunded in full, delivery included, up to what was paid."""
    unit = minor_unit(currency)
    items = sum((line.unit_price * line.quantity for line in part.lines), Decimal("0"))
    return cap_to_paid(RefundPreview(
        items=items.quantize(unit, ROUND_HALF_UP),
        restocking_fee=Decimal(0).quantize(unit),
        delivery=(part.delivery_cost or Decimal("0")).quantize(unit, ROUND_HALF_UP),
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
