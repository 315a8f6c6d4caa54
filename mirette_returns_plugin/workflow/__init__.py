"""The one place where a request is created or changes status.

:data:`TRANSITIONS` (in :mod:`.steps`) is the whole state machine, one row
per step. The modules, each with one job:

- :mod:`.steps`: the table;
- :mod:`.effects`: what a step changes besides the status (named in its row);
- :mod:`.reading`: what may be asked on an order now;
- :mod:`.creating`: creating requests;
- :mod:`.checking` and :mod:`.taking`: taking a step;
- :mod:`.paying` and :mod:`.refund_rules`: the steps that pay;
- :mod:`.messages`: the thread and read marks;
- :mod:`.quotas`: how much one person may send;
- :mod:`.records`: history rows, messages and photos, and their emails;
- :mod:`.transaction`: the transaction and the locks.

Pages and tests go through the service functions re-exported here; nothing
else writes a status.
"""

from __future__ import annotations

from ..context import Context, current_context
from ..domain import ALL_KINDS, FINAL_STATUSES, LINE_KINDS, RELEASING_STATUSES, RequestKind, Role, Status, roles_on
from ..errors import Conflict, NotAllowed, NotFound, ValidationError
from ..labels import (
    KIND_LABELS,
    KIND_STATUS_LABELS,
    SINGLE_SELLER_STATUS_LABELS,
    STATUS_LABELS,
    came_back_faulty,
    kind_label,
    status_label,
)
from .checking import check_fields, check_step
from .creating import ReturnForm, already_submitted, clean_token, plain_address, request_cancellation, submit_return
from .messages import check_message, is_unread, mark_seen, post_message
from .quotas import LIMITED_ROLES, check_new_request, closed_thread_reason
from .reading import (
    RETURNABLE_STAGES,
    cancel_block_reason,
    held_quantities,
    open_cancellation,
    paid_left,
    return_block_reason,
    returnable_quantity,
)
from .records import change_status, record
from .steps import (
    ESCALATE,
    REFUND_ACTIONS,
    STEPS,
    SUBMIT,
    TRANSITIONS,
    FormField,
    Transition,
    action_label,
    available_actions,
    find_transition,
    step_named,
)
from .taking import perform
from .transaction import find_request, lock_part, lock_request, queue_signal, session, transaction

__all__ = [
    "ALL_KINDS", "ESCALATE", "FINAL_STATUSES", "KIND_LABELS", "KIND_STATUS_LABELS", "LIMITED_ROLES", "LINE_KINDS",
    "REFUND_ACTIONS", "RELEASING_STATUSES", "RETURNABLE_STAGES", "SINGLE_SELLER_STATUS_LABELS", "STATUS_LABELS",
    "STEPS", "SUBMIT", "TRANSITIONS", "Conflict", "Context", "FormField", "NotAllowed", "NotFound", "RequestKind",
    "ReturnForm", "Role", "Status", "Transition", "ValidationError", "action_label", "already_submitted",
    "available_actions", "came_back_faulty", "cancel_block_reason", "change_status", "check_fields", "check_message",
    "check_new_request", "check_step", "clean_token", "closed_thread_reason", "current_context", "find_request",
    "find_transition", "held_quantities", "is_unread", "kind_label", "lock_part", "lock_request", "mark_seen",
    "open_cancellation", "paid_left", "perform", "plain_address", "post_message", "queue_signal", "record",
    "request_cancellation", "return_block_reason", "returnable_quantity", "roles_on", "session", "status_label",
    "step_named", "submit_return", "transaction",
]
