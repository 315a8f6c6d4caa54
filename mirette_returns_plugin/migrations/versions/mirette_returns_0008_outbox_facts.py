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

revision: str = "mirette_returns_0008"
down_revision: str | Sequence[str] | None = "mirette_returns_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "mirette_returns_outbox"


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("facts", sa.JSON(), nullable=True))
        batch.alter_column("subject", existing_type=sa.String(length=255), nullable=True)
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=True)
        batch.alter_column("body_html", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # Rows queued with facts alone have no written email to keep: they are
    # dropped with the column (send them before downgrading).
    op.execute(sa.text(f"DELETE FROM {TABLE} WHERE subject IS NULL"))
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("body_html", existing_type=sa.Text(), nullable=False)
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=False)
        batch.alter_column("subject", existing_type=sa.String(length=255), nullable=False)
        batch.drop_column("facts")
