"""What may be asked on an order now: quantities held, money left, and why a
return or a cancellation cannot be asked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import cast

import sqlalchemy as sa
from flask_babel import format_date

from ..adapter import Artist, Order, OrderLine, OrderPart, Stage
from ..context import Context, current_context
from ..domain import LINE_KINDS, RELEASING_STATUSES, RequestKind, Status
from ..i18n import gettext as _, ngettext
from ..models import Request
from ..windows import current_window
from .transaction import session

#: Stages of an order part from which a return or an exchange may be asked.
RETURNABLE_STAGES = frozenset({Stage.ACCEPTED, Stage.SHIPPED, Stage.DELIVERED})


def held_quantities(order_ref: str, line_refs: Sequence[str] | None = None) -> dict[str, int]:
    """Quantity under open or completed requests, per line of an order."""
    query = (
        sa.select(Request.line_ref, sa.func.sum(Request.quantity))
        .where(Request.order_ref == order_ref, Request.kind.in_(LINE_KINDS))
        .where(Request.status.not_in(RELEASING_STATUSES))
        .group_by(Request.line_ref)
    )
    if line_refs is not None:
        query = query.where(Request.line_ref.in_(line_refs))
    # Only line kinds are counted, and their requests always name a line.
    return {cast(str, line_ref): int(total or 0) for line_ref, total in session().execute(query)}


def paid_left(order_ref: str, part: OrderPart) -> Decimal | None:
    """What the buyer paid for ``part`` less what its requests already refund
    (``None``: the shop says everything was paid)."""
    if part.paid is None:
        return None
    committed = session().scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Request.refund_total), 0))
        .where(Request.order_ref == order_ref, Request.artist_ref == part.artist_ref)
        .where(Request.status.not_in(RELEASING_STATUSES))
    )
    return max(part.paid - Decimal(str(committed or 0)), Decimal("0"))


def returnable_quantity(line: OrderLine, held: dict[str, int]) -> int:
    if not line.returnable:
        return 0
    return max(line.quantity - held.get(line.ref, 0), 0)


def return_block_reason(order: Order, part: OrderPart, line: OrderLine | None = None, *,
                        artist: Artist | None = None, context: Context | None = None) -> str | None:
    """Why a return or exchange cannot be asked on this part now, if it cannot.

    ``artist`` (the part's artist) saves asking the shop again when the
    caller already has it.
    """
    if part.stage == Stage.PENDING:
        return _("This part of the order has not been processed yet: you can still ask to cancel it.")
    if part.stage == Stage.CANCELLED:
        return _("This part of the order was cancelled.")
    if line is not None and not line.returnable:
        return _("This item is a final sale: it cannot be returned or exchanged.")
    ctx = current_context(context)
    if artist is None:
        artist = ctx.adapter.get_artist(part.artist_ref)
    window = current_window(artist.policy.window_days).days if artist else None
    window_start = part.delivered_at or part.window_from
    if window is not None and window_start is not None:
        deadline = window_start + timedelta(days=window)
        if ctx.now() > deadline:
            return ngettext("The return period of %(num)s day ended on %(date)s.",
                            "The return period of %(num)s days ended on %(date)s.", window,
                            date=format_date(deadline))
    return None


def cancel_block_reason(part: OrderPart) -> str | None:
    """Why a cancellation cannot be asked for this part, if it cannot."""
    if part.stage == Stage.CANCELLED:
        return _("This part of the order is already cancelled.")
    if part.stage != Stage.PENDING:
        return _("This part of the order has already been processed, so it can no longer be cancelled. "
                 "You can request a return instead.")
    return None


def open_cancellation(order_ref: str, artist_ref: str) -> Request | None:
    return session().scalar(
        sa.select(Request).where(
            Request.order_ref == order_ref,
            Request.artist_ref == artist_ref,
            Request.kind == RequestKind.CANCELLATION,
            Request.status.in_({Status.REQUESTED, Status.ORDER_REFUSED}),
        ).limit(1)
    )
