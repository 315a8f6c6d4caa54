"""Template filters for the shop's pages: money, dates and rates in the reader's language."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_babel import format_currency, format_date, format_datetime, format_percent


def money(amount: Decimal | None, currency: str = "EUR") -> str:
    return format_currency(amount or Decimal("0"), currency)


def when(moment: datetime | None, style: str = "medium") -> str:
    return format_date(moment, style) if moment else ""


def when_exactly(moment: datetime | None) -> str:
    return format_datetime(moment, "medium") if moment else ""


def percent(value: Decimal | None) -> str:
    """``Decimal("10")`` (a percentage) as ``10%`` (``10 %`` in French)."""
    return format_percent((value or Decimal("0")) / 100)
