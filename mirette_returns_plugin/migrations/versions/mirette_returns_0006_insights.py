"""Indexes for the support team's insights.

Revision ID: mirette_returns_0006
Revises: mirette_returns_0005

The insights page counts the requests created in a period, the whole
marketplace's or one artist's: an index on the creation time, and one on the
artist and creation time, keep those counts on a range of the index.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "mirette_returns_0006"
down_revision: str | Sequence[str] | None = "mirette_returns_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_mr_request_created", "mirette_returns_request", ["created_at", "id"], unique=False)
    op.create_index("ix_mr_request_artist_created", "mirette_returns_request", ["artist_ref", "created_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_mr_request_artist_created", table_name="mirette_returns_request")
    op.drop_index("ix_mr_request_created", table_name="mirette_returns_request")
