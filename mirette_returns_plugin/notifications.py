"""Which emails a change causes. Queued in the outbox, same transaction.

(Filled in by the notifications module; the workflow calls these two.)
"""

from __future__ import annotations

from .models import HistoryEntry, Message, Request


def queue_for_history(request: Request, entry: HistoryEntry) -> None:
    """Queue the emails a history row causes."""


def queue_for_message(request: Request, message: Message) -> None:
    """Queue the emails a new message causes."""
