"""Whether a refund may start: the reads the refund steps' guards make."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ..context import Context, current_context
from ..domain import RequestKind
from ..i18n import gettext as _
from ..models import Refund, RefundState, Request
from .transaction import session


def refund_of(request: Request, *, lock: bool = False) -> Refund | None:
    """The refund of ``request``; ``lock`` reads the newest row and locks it."""
    query = sa.select(Refund).where(Refund.request_id == request.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session().scalar(query)


def retry_block_reason(request: Request, refund: Refund | None = None, *, lock: bool = False,
                       context: Context | None = None) -> str | None:
    """Why a refund cannot be (re)started now, if it cannot."""
    if refund is None:
        refund = refund_of(request, lock=lock)
    if refund is None:
        if request.kind == RequestKind.CANCELLATION:
            return _("There is no refund to retry.")
        return None
    if refund.state in (RefundState.INITIATED, RefundState.COMPLETED):
        return _("The refund has already been initiated.")
    if refund.state == RefundState.PENDING:
        ctx = current_context(context)
        wait = ctx.config["REFUND_RETRY_AFTER"]
        if refund.attempted_at and ctx.now() - refund.attempted_at < timedelta(seconds=wait):
            return _("The refund is being initiated; its result will show here shortly.")
    return None


def refund_not_started(request: Request, *, lock: bool = False) -> str | None:
    """Why a refund's amount can no longer change: it was started."""
    if refund_of(request, lock=lock) is not None:
        return _("The refund has already been started: its amount can no longer change.")
    return None
