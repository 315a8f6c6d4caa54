"""The words of a status and of a kind of request, translated when shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import words
from .domain import RequestKind, Status
from .i18n import N_, gettext as _
from .state import current_state

if TYPE_CHECKING:
    from .models import Request

#: English names of the statuses, translated when shown.
STATUS_LABELS: dict[str, str] = {
    Status.REQUESTED: N_("Requested"),
    Status.ACCEPTED: N_("Accepted - return instructions given"),
    Status.DECLINED: N_("Declined"),
    Status.WITHDRAWN: N_("Withdrawn"),
    Status.SHIPPED_BACK: N_("Sent back"),
    Status.RECEIVED: N_("Product received - reimbursement can be initiated"),
    Status.REFUND_INITIATED: N_("Refund initiated"),
    Status.REFUNDED: N_("Refunded"),
    Status.REPLACEMENT_SHIPPED: N_("Replacement shipped"),
    Status.ORDER_REFUSED: N_("Order refused - refund initiated"),
    Status.CANCELLED: N_("Order cancelled - nothing was charged"),
}

#: A status's words where they differ by kind: an exchange's item comes back
#: for a replacement, never for a reimbursement.
KIND_STATUS_LABELS: dict[tuple[str, str], str] = {
    (Status.RECEIVED, RequestKind.EXCHANGE): N_("Product received - the replacement can be shipped"),
}

#: Where a shop is its own only seller, the buyer asked it to cancel and it
#: did: nothing was "refused" (see :func:`words.is_marketplace`).
SINGLE_SELLER_STATUS_LABELS: dict[str, str] = {
    Status.ORDER_REFUSED: N_("Order cancelled - refund initiated"),
}

KIND_LABELS: dict[str, str] = {
    RequestKind.RETURN: N_("Return"),
    RequestKind.EXCHANGE: N_("Exchange"),
    RequestKind.CANCELLATION: N_("Cancellation"),
}


def status_label(status: str, kind: str | None = None) -> str:
    """A status's words, translated; ``kind`` gives the words that fit that kind of request."""
    if kind is not None and (status, kind) in KIND_STATUS_LABELS:
        return _(KIND_STATUS_LABELS[(status, kind)])
    if status in SINGLE_SELLER_STATUS_LABELS and not words.is_marketplace():
        return _(SINGLE_SELLER_STATUS_LABELS[status])
    return _(STATUS_LABELS.get(status, status))


def kind_label(kind: str) -> str:
    return _(KIND_LABELS.get(kind, kind))


def came_back_faulty(request: Request) -> bool:
    """Whether the buyer said the item was damaged, wrong or not as described
    (a reason the seller is at fault for): it never comes back "in good condition"."""
    reason = current_state().reasons.get(request.reason_code)
    return bool(reason and reason.seller_fault)
