"""Partial refunds, decided and explained; a legal minimum return window.

Revision ID: mirette_returns_0007
Revises: mirette_returns_0006

A return's refund may be less than the estimate when the item came back used,
incomplete or damaged: the request keeps the amount decided and its reason,
each decision's history row its amount, and the refund the estimate, the
amount paid and the reason. A request also keeps the shop's legal minimum
return window in force when it was sent. Every new column is nullable:
existing rows paid, and were sent under, what they always did.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mirette_returns_0007"
down_revision: str | Sequence[str] | None = "mirette_returns_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=14, scale=4)  # as mirette_returns_0004 left the amounts


def upgrade() -> None:
    op.add_column("mirette_returns_request", sa.Column("policy_minimum_window_days", sa.Integer(), nullable=True))
    op.add_column("mirette_returns_request", sa.Column("refund_decided_amount", MONEY, nullable=True))
    op.add_column("mirette_returns_request",
                  sa.Column("refund_decision_reason", sa.String(length=1000), nullable=True))
    op.add_column("mirette_returns_history", sa.Column("amount", MONEY, nullable=True))
    op.add_column("mirette_returns_refund", sa.Column("estimated_amount", MONEY, nullable=True))
    op.add_column("mirette_returns_refund", sa.Column("decision_reason", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    op.drop_column("mirette_returns_refund", "decision_reason")
    op.drop_column("mirette_returns_refund", "estimated_amount")
    op.drop_column("mirette_returns_history", "amount")
    op.drop_column("mirette_returns_request", "refund_decision_reason")
    op.drop_column("mirette_returns_request", "refund_decided_amount")
    op.drop_column("mirette_returns_request", "policy_minimum_window_days")
