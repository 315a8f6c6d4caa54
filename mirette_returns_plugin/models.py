"""The plugin's own tables.

They live on their own ``MetaData`` (every table named ``mirette_returns_*``)
and never foreign-key into the shop's tables: the shop's order, line, user and
artist are referred to by their string ``ref``. Queries run through the shop's
Flask-SQLAlchemy session, so the plugin's writes and the shop's can share one
transaction.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .domain import RequestKind  # re-exported: the kinds are the domain's words
from .model_base import (
    MONEY,
    NAMING_CONVENTION,
    REASON_LENGTH,
    REF,
    TABLE_PREFIX,
    TIMESTAMP,
    Base,
    UTCDateTime,
    utcnow,
)

__all__ = [
    "MONEY",
    "NAMING_CONVENTION",
    "REASON_LENGTH",
    "REF",
    "TABLE_PREFIX",
    "TIMESTAMP",
    "Base",
    "HistoryEntry",
    "Message",
    "OutboxEmail",
    "OutboxState",
    "PartLock",
    "Photo",
    "Refund",
    "RefundState",
    "Reminder",
    "ReminderStep",
    "Request",
    "RequestArtist",
    "RequestKind",
    "UTCDateTime",
    "utcnow",
]




class Request(Base):
    """A buyer's request to an artist: cancel a part, or return or exchange a line."""

    __tablename__ = f"{TABLE_PREFIX}request"
    __table_args__ = (
        sa.Index("ix_mr_request_artist_activity", "artist_ref", "last_activity_at", "id"),
        sa.Index("ix_mr_request_buyer_order", "buyer_ref", "order_ref"),
        sa.Index("ix_mr_request_order_artist", "order_ref", "artist_ref"),
        sa.Index("ix_mr_request_activity", "last_activity_at", "id"),
        sa.Index("ix_mr_request_status_activity", "status", "last_activity_at", "id"),
        # The support list's "support asked to step in" filter.
        sa.Index("ix_mr_request_escalated_activity", "escalated", "last_activity_at", "id"),
        # The support insights count a period's requests, the whole
        # marketplace's or one artist's.
        sa.Index("ix_mr_request_created", "created_at", "id"),
        sa.Index("ix_mr_request_artist_created", "artist_ref", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(32))
    #: Bumped by every change; a form carries the version it was rendered with
    #: so that a stale page is refused instead of overwriting newer work.
    version: Mapped[int] = mapped_column(default=1)

    order_ref: Mapped[str] = mapped_column(sa.String(REF))
    order_number: Mapped[str] = mapped_column(sa.String(REF))
    artist_ref: Mapped[str] = mapped_column(sa.String(REF))
    artist_name: Mapped[str] = mapped_column(sa.String(255))
    artist_email: Mapped[str] = mapped_column(sa.String(254))
    artist_locale: Mapped[str | None] = mapped_column(sa.String(16))
    buyer_ref: Mapped[str] = mapped_column(sa.String(REF))
    buyer_name: Mapped[str] = mapped_column(sa.String(255))
    buyer_email: Mapped[str] = mapped_column(sa.String(254))
    #: A cancellation's address for the answer, when the buyer typed one other
    #: than their account's (a plain address; the account's stays in copy).
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    buyer_locale: Mapped[str | None] = mapped_column(sa.String(16))
    currency: Mapped[str] = mapped_column(sa.String(3))

    # The line, for a return or an exchange (empty for a cancellation).
    line_ref: Mapped[str | None] = mapped_column(sa.String(REF))
    product_ref: Mapped[str | None] = mapped_column(sa.String(REF))
    product_name: Mapped[str | None] = mapped_column(sa.String(255))
    variant: Mapped[str | None] = mapped_column(sa.String(255))
    image_url: Mapped[str | None] = mapped_column(sa.String(1000))
    quantity: Mapped[int] = mapped_column(default=0)
    unit_price: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    reason_code: Mapped[str | None] = mapped_column(sa.String(40))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    wanted_ref: Mapped[str | None] = mapped_column(sa.String(REF))
    wanted_label: Mapped[str | None] = mapped_column(sa.String(255))
    #: Set when an exchange was turned into a refund so the buyer can reorder.
    converted_from_exchange: Mapped[bool] = mapped_column(default=False)

    # The artist's policy as it was at submission; later edits never change it.
    policy_window_days: Mapped[int | None] = mapped_column()
    policy_refunds_delivery: Mapped[bool] = mapped_column(default=False)
    policy_return_shipping_paid_by: Mapped[str] = mapped_column(sa.String(16), default="buyer")
    policy_restocking_fee_percent: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal("0"))
    policy_text: Mapped[str | None] = mapped_column(sa.Text)
    policy_url: Mapped[str | None] = mapped_column(sa.String(1000))
    #: The artist's days to answer before a reminder (``None``: the shop's default).
    policy_answer_days: Mapped[int | None] = mapped_column()
    #: The shop's legal minimum return window when the request was sent
    #: (``MINIMUM_RETURN_DAYS``; ``None``: none): with ``policy_window_days``
    #: it says which window applies (see :mod:`.windows`).
    policy_minimum_window_days: Mapped[int | None] = mapped_column()

    # What a refund would pay, computed at submission under the frozen policy.
    refund_items: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    refund_delivery: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    refund_restocking_fee: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    refund_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    #: Less than the estimate, decided by the artist or support when the item
    #: came back used, incomplete or damaged (``None``: the estimate is paid).
    refund_decided_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    #: Why less is refunded, in the words the buyer reads.
    refund_decision_reason: Mapped[str | None] = mapped_column(sa.String(REASON_LENGTH))

    # What the parties said when moving the request on.
    instructions: Mapped[str | None] = mapped_column(sa.Text)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    return_tracking: Mapped[str | None] = mapped_column(sa.String(255))
    replacement_tracking: Mapped[str | None] = mapped_column(sa.String(255))
    escalated: Mapped[bool] = mapped_column(default=False)

    #: One per rendered form: a second post of the same form finds this request
    #: instead of creating another (double click, retry after a time-out).
    submission_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    created_at: Mapped[datetime] = mapped_column(TIMESTAMP, default=utcnow)
    #: Newest message or status change; the inbox sorts and the poll looks on it.
    last_activity_at: Mapped[datetime] = mapped_column(TIMESTAMP, default=utcnow)
    buyer_seen_at: Mapped[datetime | None] = mapped_column(TIMESTAMP)
    artist_seen_at: Mapped[datetime | None] = mapped_column(TIMESTAMP)
    closed_at: Mapped[datetime | None] = mapped_column(TIMESTAMP)

    messages: Mapped[list[Message]] = relationship(
        back_populates="request", order_by="Message.id", lazy="raise_on_sql"
    )
    history: Mapped[list[HistoryEntry]] = relationship(
        back_populates="request", order_by="HistoryEntry.id", lazy="raise_on_sql"
    )
    photos: Mapped[list[Photo]] = relationship(
        back_populates="request", order_by="Photo.id", lazy="raise_on_sql"
    )
    refund: Mapped[Refund | None] = relationship(back_populates="request", lazy="raise_on_sql")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read by SQLAlchemy once, at mapping

    @property
    def is_cancellation(self) -> bool:
        return self.kind == RequestKind.CANCELLATION

    @property
    def refund_amount(self) -> Decimal:
        """What the refund pays: the amount decided, else the estimate."""
        return self.refund_total if self.refund_decided_amount is None else self.refund_decided_amount

    @property
    def line_total(self) -> Decimal:
        return (self.unit_price or Decimal("0")) * self.quantity


class Message(Base):
    """One message of a request's thread."""

    __tablename__ = f"{TABLE_PREFIX}message"
    __table_args__ = (
        sa.Index("ix_mr_message_request", "request_id", "id"),
        # The daily limit counts a person's recent messages.
        sa.Index("ix_mr_message_author", "author_ref", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}request.id", ondelete="CASCADE"))
    author_role: Mapped[str] = mapped_column(sa.String(16))
    author_ref: Mapped[str] = mapped_column(sa.String(REF))
    author_name: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMP, default=utcnow)

    request: Mapped[Request] = relationship(back_populates="messages", lazy="raise_on_sql")
    photos: Mapped[list[Photo]] = relationship(
        back_populates="message", order_by="Photo.id", lazy="raise_on_sql"
    )


class HistoryEntry(Base):
    """Who did what to a request, and when. Written by every workflow step."""

    __tablename__ = f"{TABLE_PREFIX}history"
    __table_args__ = (sa.Index("ix_mr_history_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}request.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str] = mapped_column(sa.String(32))
    actor_role: Mapped[str] = mapped_column(sa.String(16))
    actor_ref: Mapped[str] = mapped_column(sa.String(REF))
    actor_name: Mapped[str] = mapped_column(sa.String(255))
    note: Mapped[str | None] = mapped_column(sa.Text)
    #: The amount a step decided (a refund less than the estimate), so that
    #: each decision keeps its own figure in the timeline.
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMP, default=utcnow)

    request: Mapped[Request] = relationship(back_populates="history", lazy="raise_on_sql")


class Photo(Base):
    """A photo attached to a request or to one of its messages.

    The image itself lives in the photo storage under ``storage_key``.
    """

    __tablename__ = f"{TABLE_PREFIX}photo"
    __table_args__ = (
        sa.Index("ix_mr_photo_request", "request_id", "id"),
        # The daily photo quota counts a person's recent photos.
        sa.Index("ix_mr_photo_uploader", "uploaded_by_ref", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}request.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}message.id", ondelete="CASCADE")
    )
    storage_key: Mapped[str] = mapped_column(sa.String(255))
    thumbnail_key: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(32))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    byte_size: Mapped[int] = mapped_column()
    uploaded_by_role: Mapped[str] = mapped_column(sa.String(16))
    uploaded_by_ref: Mapped[str] = mapped_column(sa.String(REF))
    created_at: Mapped[datetime] = mapped_column(TIMESTAMP, default=utcnow)

    request: Mapped[Request] = relationship(back_populates="photos", lazy="raise_on_sql")
    message: Mapped[Message | None] = relationship(back_populates="photos", lazy="raise_on_sql")


class ReminderStep:
    REMIND = "remind"  # one email to the party who must act
    ESCALATE = "escalate"  # support asked to step in, on its own


class Reminder(Base):
    """A reminder or an automatic escalation, claimed before it is done.

    Unique per request, status and step: of several ``tick`` runs racing for
    the same one, only the first insert succeeds, so each reminder goes out
    once. A request passes through each status at most once.
    """

    __tablename__ = f"{TABLE_PREFIX}reminder"
    __table_args__ = (sa.UniqueConstraint("request_id", "status", "step", name="uq_mr_reminder_step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}request.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(32))
    step: Mapped[str] = mapped_column(sa.String(16))
    #: Who was silent: ``buyer`` or ``artist``.
    silent_role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(TIMESTAMP, default=utcnow)


class RefundState:
    PENDING = "pending"  # key stored, shop not yet answered
    FAILED = "failed"  # the shop's hook failed; retryable with the same key
    INITIATED = "initiated"  # the shop accepted it
    COMPLETED = "completed"  # the shop confirmed the money moved


class Refund(Base):
    """The one refund of a request, with the idempotency key the shop sees."""

    __tablename__ = f"{TABLE_PREFIX}refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}request.id", ondelete="CASCADE"), unique=True
    )
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: What is paid: the estimate, or less when the artist or support decided so.
    amount: Mapped[Decimal] = mapped_column(MONEY)
    #: The estimate the buyer was shown (``None`` on refunds made before it was kept).
    estimated_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    #: Why less than the estimate is paid, as the buyer read it (``None``: the estimate is paid).
    decision_reason: Mapped[str | None] = mapped_column(sa.String(REASON_LENGTH))
    currency: Mapped[str] = mapped_column(sa.String(3))
    state: Mapped[str] = mapped_column(sa.String(16), default=RefundState.PENDING)
    shop_reference: Mapped[str | None] = mapped_column(sa.String(255))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMP, default=utcnow)
    attempted_at: Mapped[datetime | None] = mapped_column(TIMESTAMP)
    completed_at: Mapped[datetime | None] = mapped_column(TIMESTAMP)

    request: Mapped[Request] = relationship(back_populates="refund", lazy="raise_on_sql")


class PartLock(Base):
    """One row per artist part of an order that has requests.

    Creating a request or refusing a part first updates this row, which
    serialises everything that happens to one part: two buyers' tabs racing
    for the last returnable unit, or a cancellation racing a refusal.
    """

    __tablename__ = f"{TABLE_PREFIX}part_lock"
    __table_args__ = (sa.UniqueConstraint("order_ref", "artist_ref", name="uq_mr_part_lock"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_ref: Mapped[str] = mapped_column(sa.String(REF))
    artist_ref: Mapped[str] = mapped_column(sa.String(REF))
    changes: Mapped[int] = mapped_column(default=0)


class RequestArtist(Base):
    """Each artist who has received a request, with the name last seen.

    The support list's artist filter searches these few rows (one per
    artist) instead of grouping the whole request history. Written by the
    same transaction that creates a request.
    """

    __tablename__ = f"{TABLE_PREFIX}artist"

    ref: Mapped[str] = mapped_column(sa.String(REF), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    #: ``name`` case-folded, for a search that ignores case in every database.
    name_key: Mapped[str] = mapped_column(sa.String(255))


class OutboxState:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after MAIL_MAX_ATTEMPTS


class OutboxEmail(Base):
    """An email to send, written in the same transaction as its cause.

    A worker (``flask mirette-returns send-emails``) or the after-commit hook
    delivers it; a failed attempt only moves ``next_attempt_at`` on.
    """

    __tablename__ = f"{TABLE_PREFIX}outbox"
    __table_args__ = (sa.Index("ix_mr_outbox_due", "state", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}request.id", ondelete="SET NULL")
    )
    #: ``<event>:<recipient role>``, e.g. ``history-12:buyer``; unique so one
    #: event never queues the same email twice.
    event_key: Mapped[str] = mapped_column(sa.String(128), unique=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    #: What the email tells (:mod:`.email_facts`); it is written from them
    #: when it is sent, in ``locale``.
    facts: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    #: The written email of a row queued before the facts were kept
    #: (``facts`` empty); sent as it is.
    subject: Mapped[str | None] = mapped_column(sa.String(255))
    body_text: Mapped[str | None] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    message_id: Mapped[str] = mapped_column(sa.String(255))
    thread_id: Mapped[str] = mapped_column(sa.String(255))
    state: Mapped[str] = mapped_column(sa.String(16), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMP, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(TIMESTAMP, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(TIMESTAMP)
