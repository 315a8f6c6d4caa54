"""Amounts keep each currency's minor unit: three decimals for a dinar.

Revision ID: mirette_returns_0004
Revises: mirette_returns_0003

Amounts were stored with two decimals, which rounded a Kuwaiti dinar's
third decimal away. They now hold four, the finest minor unit in Babel's
currency data, with as many digits before the point as before. Widening
keeps every stored value.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "mirette_returns_0004"
down_revision: str | Sequence[str] | None = "mirette_returns_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNTS = {
    "mirette_returns_request": ("unit_price", "refund_items", "refund_delivery", "refund_restocking_fee",
                                "refund_total"),
    "mirette_returns_refund": ("amount",),
}
BEFORE = sa.Numeric(precision=12, scale=2)
AFTER = sa.Numeric(precision=14, scale=4)


def _retype(before: sa.Numeric, after: sa.Numeric) -> None:
    if context.is_offline_mode() and op.get_context().dialect.name == "sqlite":
        # Printed SQL cannot copy a table it cannot read; SQLite keeps every
        # decimal of a NUMERIC column whatever scale it declares, so the
        # amounts read back whole without the copy.
        return
    # Batch: SQLite changes a column's type by copying the table.
    for table, columns in AMOUNTS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, existing_type=before, type_=after, existing_nullable=False)


def upgrade() -> None:
    _retype(BEFORE, AFTER)


def downgrade() -> None:
    _retype(AFTER, BEFORE)
