"""Limits on threads and photos, and a cancellation's own contact address.

Revision ID: mirette_returns_0003
Revises: mirette_returns_0002

The daily limits count a person's recent messages and photos: each gets an
index by author and time. A cancellation's address for the answer is kept
beside the buyer's own address instead of replacing it (existing rows keep
the address they were given in ``buyer_email``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mirette_returns_0003"
down_revision: str | Sequence[str] | None = "mirette_returns_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("mirette_returns_request", sa.Column("contact_email", sa.String(length=254), nullable=True))
    op.create_index("ix_mr_message_author", "mirette_returns_message", ["author_ref", "created_at"], unique=False)
    op.create_index("ix_mr_photo_uploader", "mirette_returns_photo", ["uploaded_by_ref", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_mr_photo_uploader", table_name="mirette_returns_photo")
    op.drop_index("ix_mr_message_author", table_name="mirette_returns_message")
    # A plain DROP COLUMN: SQLite has it since 3.35 (2021), and it prints in --sql mode.
    op.drop_column("mirette_returns_request", "contact_email")
