"""The support list's filters without a scan: an artists table, an escalation index.

Revision ID: mirette_returns_0002
Revises: mirette_returns_0001

The support list used to offer its artists by grouping every request, which
grows with the history. The new table holds one row per artist, filled here
from the requests already there (the name of each artist's newest request).
The "support asked to step in" filter gets an index of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "mirette_returns_0002"
down_revision: str | Sequence[str] | None = "mirette_returns_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_mr_request_escalated_activity", "mirette_returns_request",
                    ["escalated", "last_activity_at", "id"], unique=False)
    artists = op.create_table(
        "mirette_returns_artist",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_key", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_mirette_returns_artist")),
    )
    requests = sa.table("mirette_returns_request", sa.column("id", sa.Integer()),
                        sa.column("artist_ref", sa.String()), sa.column("artist_name", sa.String()))
    newest = (sa.select(requests.c.artist_ref, sa.func.max(requests.c.id).label("id"))
              .group_by(requests.c.artist_ref).subquery())
    newest_names = (sa.select(requests.c.artist_ref, requests.c.artist_name)
                    .join(newest, newest.c.id == requests.c.id))
    if context.is_offline_mode():
        # Printed SQL: the database lowers the names (Python's casefold, used
        # from now on, differs only for a few letters such as ß).
        names = newest_names.subquery()
        op.execute(artists.insert().from_select(
            ["ref", "name", "name_key"],
            sa.select(names.c.artist_ref, names.c.artist_name, sa.func.lower(names.c.artist_name))))
        return
    batch = []
    for ref, name in op.get_bind().execute(newest_names):
        batch.append({"ref": ref, "name": name, "name_key": name.casefold()[:255]})
        if len(batch) == 1000:
            op.bulk_insert(artists, batch)
            batch = []
    if batch:
        op.bulk_insert(artists, batch)


def downgrade() -> None:
    op.drop_table("mirette_returns_artist")
    op.drop_index("ix_mr_request_escalated_activity", table_name="mirette_returns_request")
