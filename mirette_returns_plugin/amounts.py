"""Amounts of money as the reader reads them, in their language.

Babel finds the locale's currency pattern and the currency's digits again
for each amount; a page shows the same few amounts to every reader of a
request, so each (amount, currency, locale) is written once per worker.
The text is exactly Flask-Babel's ``format_currency(amount, currency)``.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency
from flask_babel import get_locale

#: Amounts kept per worker (a few kilobytes).
_MOST_AMOUNTS = 4096


@lru_cache(maxsize=_MOST_AMOUNTS)
def _written(amount: Decimal | int, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=locale)


def money(amount: Decimal | int | None, currency: str) -> str:
    """``amount`` (``None``: zero) of ``currency`` in the reader's language."""
    locale = get_locale()
    return _written(amount or Decimal("0"), currency, str(locale) if locale else "en")
