"""Email delivery from the outbox (filled in by the notifications work)."""

from __future__ import annotations


def install(app, settings) -> None:
    """Hook after-commit delivery when MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT is set."""
