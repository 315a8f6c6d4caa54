"""What a service works with, passed in: the shop's adapter, the settings,
the clock, the photo store, the reasons, the database session and the
language.

The service functions (``workflow.perform``, ``workflow.submit_return``...)
take ``context=`` and otherwise build one from the mounted plugin with
:func:`current_context`. The clock is the shop's ``MIRETTE_RETURNS_CLOCK``
if it set one; a test gives its own to check a time rule without waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_babel import get_locale

from .models import utcnow
from .state import current_state

if TYPE_CHECKING:
    from flask_sqlalchemy.session import Session
    from sqlalchemy.orm import scoped_session

    from .adapter import ShopAdapter
    from .photos import PhotoStore
    from .reasons import ReasonCatalogue


@dataclass(frozen=True)
class Context:
    """Everything a service needs, for one call."""

    adapter: ShopAdapter
    #: ``MIRETTE_RETURNS_*`` settings, keyed without the prefix.
    config: Mapping[str, Any]
    reasons: ReasonCatalogue
    photos: PhotoStore
    #: Flask-SQLAlchemy's session: the shop's own, so its writes and the plugin's are one transaction.
    session: scoped_session[Session]
    #: The app whose signals are sent after a commit.
    app: Flask
    #: Gives the current moment, timezone-aware.
    clock: Callable[[], datetime] = utcnow
    #: The language of the person acting (``None``: the shop's default).
    locale: str | None = None

    def now(self) -> datetime:
        """The current moment by this context's clock, in UTC."""
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the clock must give a timezone-aware moment")
        return moment.astimezone(timezone.utc)

    def but(self, **changes: Any) -> Context:
        """This context with some parts changed (another clock, say)."""
        return replace(self, **changes)


def current_context(given: Context | None = None) -> Context:
    """``given``, else a context for the plugin mounted on the current app."""
    if given is not None:
        return given
    state = current_state()
    locale = get_locale()
    return Context(adapter=state.adapter, config=state.config, reasons=state.reasons, photos=state.photos,
                   session=state.session, app=state.app, clock=state.config.get("CLOCK") or utcnow,
                   locale=str(locale) if locale else None)
