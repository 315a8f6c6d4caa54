"""Reminders and automatic escalation.

Revision ID: mirette_returns_0005
Revises: mirette_returns_0004

Each request keeps the days its artist gives themselves to answer, as their
policy said at submission (existing rows: the shop's default). The reminder
table holds one row per reminder or automatic escalation; its unique
constraint is the claim that lets several ``tick`` runs race safely.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "mirette_returns_0005"
down_revision: str | Sequence[str] | None = "mirette_returns_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: What ``models.UTCDateTime`` stores: naive UTC; microseconds on MariaDB too.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.add_column("mirette_returns_request", sa.Column("policy_answer_days", sa.Integer(), nullable=True))
    op.create_table(
        "mirette_returns_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("silent_role", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["mirette_returns_request.id"],
                                name="fk_mirette_returns_reminder_request_id_mirette_returns_request",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_mirette_returns_reminder"),
        sa.UniqueConstraint("request_id", "status", "step", name="uq_mr_reminder_step"),
    )


def downgrade() -> None:
    op.drop_table("mirette_returns_reminder")
    op.drop_column("mirette_returns_request", "policy_answer_days")
