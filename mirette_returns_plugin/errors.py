"""Errors the plugin raises, each carrying a message a user can read."""

from __future__ import annotations


class MiretteReturnsError(Exception):
    """Base class. ``str(error)`` is a translated message fit for a page."""

    #: HTTP status a view answers with when this error reaches it.
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        #: Form field the message belongs to, when there is one.
        self.field = field


class ValidationError(MiretteReturnsError):
    """Input that breaks a rule; nothing was changed."""

    status_code = 422

    def __init__(self, errors: dict[str, str]) -> None:
        first = next(iter(errors.values()), "")
        super().__init__(first)
        #: ``{field name: message}``; ``"__all__"`` for the form as a whole.
        self.errors = errors


class NotAllowed(MiretteReturnsError):
    """The actor may not do this (wrong role or wrong state)."""

    status_code = 403


class Conflict(MiretteReturnsError):
    """Someone else changed the request first, or the page was stale."""

    status_code = 409


class NotFound(MiretteReturnsError):
    """Unknown, or not visible to this actor (the two look the same)."""

    status_code = 404


class AdapterError(MiretteReturnsError):
    """The shop's adapter refused or failed an action.

    Adapters raise it with a message for the user, e.g. when an order part
    can no longer be refused because it was shipped.
    """

    status_code = 409


class ConfigurationError(RuntimeError):
    """The plugin was mounted wrongly; the message names the fix."""
