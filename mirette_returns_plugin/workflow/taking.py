"""Taking a step: check it against its row, apply the row's effect, write
the history row. The one place, with the refund steps, where a status changes."""

from __future__ import annotations

from ..adapter import User
from ..context import Context, current_context
from ..models import HistoryEntry, Request
from .checking import check_step
from .paying import perform_refund_step
from .records import change_status
from .steps import TRANSITIONS
from .transaction import transaction

#: Steps that pay, or confirm a payment: they run through :func:`perform_refund_step`.
PAYING_ACTIONS = frozenset(t.action for t in TRANSITIONS if t.pays or t.confirms_payment)


def perform(
    user: User | None,
    request_id: int,
    action: str,
    *,
    version: int | str | None = None,
    note: str | None = None,
    tracking: str | None = None,
    amount: str | None = None,
    commit: bool = True,
    context: Context | None = None,
) -> Request:
    """Take ``action`` on a request as ``user``, if the table allows it.

    ``version`` is the request version the user's page showed (a number, or
    the form's text of one); a different current version means the page was
    stale and the step is refused.
    Refund steps (see :mod:`mirette_returns_plugin.refunds`) always commit,
    because the shop's hook is called between two transactions.
    """
    ctx = current_context(context)
    if action in PAYING_ACTIONS:
        return perform_refund_step(ctx, user, request_id, action, version=version, note=note)
    request, _entry = transaction(
        lambda: _perform(ctx, user, request_id, action, version, note, tracking, amount),
        commit=commit,
    )
    return request


def _perform(ctx: Context, user: User | None, request_id: int, action: str, version: int | str | None,
             note: str | None, tracking: str | None, amount: str | None = None) -> tuple[Request, HistoryEntry]:
    request, transition, role, values = check_step(ctx, user, request_id, action, version, note=note,
                                                   tracking=tracking, amount=amount)
    if transition.effect is not None:
        transition.effect(ctx, request, values)
    # A step that asks for an amount keeps it in its history row.
    decided = request.refund_decided_amount if "amount" in values else None
    entry = change_status(request, transition, transition.leads_to(request), role, user, values.get("note"),
                          amount=decided)
    return request, entry
