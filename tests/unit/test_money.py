"""Money: each currency's minor unit, from Babel's currency data."""

from __future__ import annotations

from decimal import Decimal

from mirette_returns_plugin.money import minor_unit


def test_the_minor_unit_comes_from_babels_currency_data() -> None:
    assert minor_unit("JPY") == Decimal("1")
    assert minor_unit("KWD") == Decimal("0.001")
    assert minor_unit("EUR") == Decimal("0.01")
