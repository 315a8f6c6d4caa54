"""Reading the shop's rows: a mapping field's value, and the plugin's text refs as column keys.

The ready adapter (:mod:`~mirette_returns_plugin.sqla_adapter`) reads every
value through these, so that a column, a function of the row and a constant
read alike, and a reference that cannot be a key of the column finds nothing
instead of failing in the database.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime, time, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from .sqla_mapping import Field

_INTEGER = re.compile(r"-?[0-9]{1,19}")


def read(row: Any, field: Field | None) -> Any:
    """The value a mapping field gives for ``row`` (``None`` for no field)."""
    if field is None:
        return None
    if isinstance(field, str):
        return getattr(row, field)
    return field(row)


def read_either(row: Any, own: Field | None, other_row: Any | None, other: Field | None) -> Any:
    """``own`` read on ``row`` when it is mapped, else ``other`` read on ``other_row`` (a buyer's, a product's)."""
    if own is not None:
        return read(row, own)
    return read(other_row, other) if other_row is not None else None


def column_in(column: Any, values: Sequence[Any]) -> Any:
    """``column IN values``, each value converted to the column's type (no FK needed to match)."""
    keys = {to_key(column, str(value)) for value in values}
    keys.discard(None)
    return column.in_(keys)


def to_key(column: Any, ref: object) -> Any | None:
    """The plugin's text ``ref`` as a value of ``column``'s type, or ``None`` if it cannot be one."""
    if ref is None:
        return None
    if not isinstance(ref, str):
        return ref
    try:
        python_type = column.type.python_type
    except (AttributeError, NotImplementedError):
        return ref
    try:
        if python_type is int:
            number = int(ref) if _INTEGER.fullmatch(ref) else None
            # Out of the column's range the database would fail, not find nothing.
            return number if number is not None and abs(number) < _integer_limit(column) else None
        if python_type is uuid.UUID:
            return uuid.UUID(ref)
        if python_type is str:
            return ref
        return python_type(ref)
    except (TypeError, ValueError, ArithmeticError):
        return None


def _integer_limit(column: Any) -> int:
    column_type = column.type
    if isinstance(column_type, sa.SmallInteger):
        return 2**15
    if isinstance(column_type, sa.BigInteger):
        return 2**63
    return 2**31


def text(value: Any) -> str:
    return "" if value is None else str(value)


def optional_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def as_decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal("0")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    moment: datetime = value if isinstance(value, datetime) else datetime.combine(value, time.min)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


