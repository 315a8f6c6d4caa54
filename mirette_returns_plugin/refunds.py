"""Refunds: at most one per request, never paid twice.

The steps that pay run in :mod:`mirette_returns_plugin.workflow.paying`
(read it for the three parts of a refund step); this module is the face the
shop and the pages use.
"""

from __future__ import annotations

from .workflow.paying import confirm_refund, perform_refund_step
from .workflow.refund_rules import refund_of, retry_block_reason

__all__ = ["confirm_refund", "perform_refund_step", "refund_of", "retry_block_reason"]
