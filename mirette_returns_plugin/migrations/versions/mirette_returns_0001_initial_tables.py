"""The plugin's tables, as in mirette-returns 0.1.

Revision ID: mirette_returns_0001
Revises: (none)

Only tables named ``mirette_returns_*``; no import from the plugin's models,
so this file keeps describing the schema as it was at this revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "mirette_returns_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: What ``models.UTCDateTime`` stores: naive UTC; microseconds on MariaDB too.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "mirette_returns_part_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_ref", sa.String(length=64), nullable=False),
        sa.Column("artist_ref", sa.String(length=64), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirette_returns_part_lock")),
        sa.UniqueConstraint("order_ref", "artist_ref", name="uq_mr_part_lock"),
    )

    op.create_table(
        "mirette_returns_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("order_ref", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("artist_ref", sa.String(length=64), nullable=False),
        sa.Column("artist_name", sa.String(length=255), nullable=False),
        sa.Column("artist_email", sa.String(length=254), nullable=False),
        sa.Column("artist_locale", sa.String(length=16), nullable=True),
        sa.Column("buyer_ref", sa.String(length=64), nullable=False),
        sa.Column("buyer_name", sa.String(length=255), nullable=False),
        sa.Column("buyer_email", sa.String(length=254), nullable=False),
        sa.Column("buyer_locale", sa.String(length=16), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("line_ref", sa.String(length=64), nullable=True),
        sa.Column("product_ref", sa.String(length=64), nullable=True),
        sa.Column("product_name", sa.String(length=255), nullable=True),
        sa.Column("variant", sa.String(length=255), nullable=True),
        sa.Column("image_url", sa.String(length=1000), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("wanted_ref", sa.String(length=64), nullable=True),
        sa.Column("wanted_label", sa.String(length=255), nullable=True),
        sa.Column("converted_from_exchange", sa.Boolean(), nullable=False),
        sa.Column("policy_window_days", sa.Integer(), nullable=True),
        sa.Column("policy_refunds_delivery", sa.Boolean(), nullable=False),
        sa.Column("policy_return_shipping_paid_by", sa.String(length=16), nullable=False),
        sa.Column("policy_restocking_fee_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("policy_text", sa.Text(), nullable=True),
        sa.Column("policy_url", sa.String(length=1000), nullable=True),
        sa.Column("refund_items", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("refund_delivery", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("refund_restocking_fee", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("refund_total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("return_tracking", sa.String(length=255), nullable=True),
        sa.Column("replacement_tracking", sa.String(length=255), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("submission_token", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_activity_at", UTC_DATETIME, nullable=False),
        sa.Column("buyer_seen_at", UTC_DATETIME, nullable=True),
        sa.Column("artist_seen_at", UTC_DATETIME, nullable=True),
        sa.Column("closed_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirette_returns_request")),
        sa.UniqueConstraint("submission_token", name=op.f("uq_mirette_returns_request_submission_token")),
    )
    op.create_index("ix_mr_request_activity", "mirette_returns_request", ["last_activity_at", "id"])
    op.create_index(
        "ix_mr_request_artist_activity", "mirette_returns_request", ["artist_ref", "last_activity_at", "id"]
    )
    op.create_index("ix_mr_request_buyer_order", "mirette_returns_request", ["buyer_ref", "order_ref"])
    op.create_index("ix_mr_request_order_artist", "mirette_returns_request", ["order_ref", "artist_ref"])
    op.create_index("ix_mr_request_status_activity", "mirette_returns_request", ["status", "last_activity_at", "id"])

    op.create_table(
        "mirette_returns_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("actor_ref", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mirette_returns_request.id"],
            name=op.f("fk_mirette_returns_history_request_id_mirette_returns_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirette_returns_history")),
    )
    op.create_index("ix_mr_history_request", "mirette_returns_history", ["request_id", "id"])

    op.create_table(
        "mirette_returns_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("author_ref", sa.String(length=64), nullable=False),
        sa.Column("author_name", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mirette_returns_request.id"],
            name=op.f("fk_mirette_returns_message_request_id_mirette_returns_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirette_returns_message")),
    )
    op.create_index("ix_mr_message_request", "mirette_returns_message", ["request_id", "id"])

    op.create_table(
        "mirette_returns_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("event_key", sa.String(length=128), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("thread_id", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mirette_returns_request.id"],
            name=op.f("fk_mirette_returns_outbox_request_id_mirette_returns_request"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirette_returns_outbox")),
        sa.UniqueConstraint("event_key", name=op.f("uq_mirette_returns_outbox_event_key")),
    )
    op.create_index("ix_mr_outbox_due", "mirette_returns_outbox", ["state", "next_attempt_at", "id"])

    op.create_table(
        "mirette_returns_refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("shop_reference", sa.String(length=255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("attempted_at", UTC_DATETIME, nullable=True),
        sa.Column("completed_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mirette_returns_request.id"],
            name=op.f("fk_mirette_returns_refund_request_id_mirette_returns_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirette_returns_refund")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_mirette_returns_refund_idempotency_key")),
        sa.UniqueConstraint("request_id", name=op.f("uq_mirette_returns_refund_request_id")),
    )

    op.create_table(
        "mirette_returns_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_role", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by_ref", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["mirette_returns_message.id"],
            name=op.f("fk_mirette_returns_photo_message_id_mirette_returns_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mirette_returns_request.id"],
            name=op.f("fk_mirette_returns_photo_request_id_mirette_returns_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirette_returns_photo")),
    )
    op.create_index("ix_mr_photo_request", "mirette_returns_photo", ["request_id", "id"])


def downgrade() -> None:
    # Children first; a table's indexes go with it (MariaDB refuses to drop an
    # index that a foreign key still needs).
    op.drop_table("mirette_returns_photo")
    op.drop_table("mirette_returns_refund")
    op.drop_table("mirette_returns_outbox")
    op.drop_table("mirette_returns_message")
    op.drop_table("mirette_returns_history")
    op.drop_table("mirette_returns_request")
    op.drop_table("mirette_returns_part_lock")
