"""The outbox keeps the facts of an email, and the email is written when it is sent.

Revision ID: mirette_returns_0008
Revises: mirette_returns_0007

A change used to write its emails inside its own transaction; it now stores
what they tell (the step, the request's values, the message as written, the
reader's role and name) in ``facts``, and the delivery worker writes each
email in its reader's language when it sends it. The written subject and
bodies become optional: rows queued before this revision keep theirs and are
sent as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "mirette_returns_0008"
down_revision: str | Sequence[str] | None = "mirette_returns_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "mirette_returns_outbox"

UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")  # as 0001


def _outbox(*, written: bool, facts: bool) -> sa.Table:
    """The outbox table as it stands before the change: SQLite copies it into
    a new table, and ``--sql`` cannot read it from the database."""
    return sa.Table(
        TABLE, sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey(
            "mirette_returns_request.id", ondelete="SET NULL",
            name="fk_mirette_returns_outbox_request_id_mirette_returns_request"), nullable=True),
        sa.Column("event_key", sa.String(length=128), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=True),
        *([sa.Column("facts", sa.JSON(), nullable=True)] if facts else []),
        sa.Column("subject", sa.String(length=255), nullable=not written),
        sa.Column("body_text", sa.Text(), nullable=not written),
        sa.Column("body_html", sa.Text(), nullable=not written),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("thread_id", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_mirette_returns_outbox"),
        sa.UniqueConstraint("event_key", name="uq_mirette_returns_outbox_event_key"),
        sa.Index("ix_mr_outbox_due", "state", "next_attempt_at", "id"),
    )


def upgrade() -> None:
    with op.batch_alter_table(TABLE, copy_from=_outbox(written=True, facts=False)) as batch:
        batch.add_column(sa.Column("facts", sa.JSON(), nullable=True))
        batch.alter_column("subject", existing_type=sa.String(length=255), nullable=True)
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=True)
        batch.alter_column("body_html", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # Rows queued with facts alone have no written email to keep: they are
    # dropped with the column (send them before downgrading).
    op.execute(sa.text(f"DELETE FROM {TABLE} WHERE subject IS NULL"))
    with op.batch_alter_table(TABLE, copy_from=_outbox(written=False, facts=True)) as batch:
        batch.alter_column("body_html", existing_type=sa.Text(), nullable=False)
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=False)
        batch.alter_column("subject", existing_type=sa.String(length=255), nullable=False)
        batch.drop_column("facts")
