"""What ``init_app`` leaves in ``app.extensions["mirette_returns"]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from .errors import ConfigurationError
from .fragments import FragmentCache

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy
    from flask_sqlalchemy.session import Session
    from sqlalchemy.orm import scoped_session

    from .adapter import ShopAdapter
    from .photos import PhotoStore
    from .reasons import ReasonCatalogue

EXTENSION_KEY = "mirette_returns"


@dataclass
class PluginState:
    """Everything the plugin knows about one app it is mounted on."""

    adapter: ShopAdapter
    db: SQLAlchemy
    #: ``MIRETTE_RETURNS_*`` settings, keyed without the prefix.
    config: dict[str, Any]
    reasons: ReasonCatalogue
    photos: PhotoStore
    #: Name of the blueprint (endpoints are ``<name>.<view>``).
    blueprint_name: str
    #: Rendered pieces of pages, per version of a request (:mod:`.fragments`).
    fragments: FragmentCache = field(default_factory=lambda: FragmentCache(0))

    @property
    def session(self) -> scoped_session[Session]:
        # The shop's own object: the plugin's writes and the shop's are one transaction.
        return self.db.session

    @property
    def app(self) -> Flask:
        return current_flask_app()


def current_flask_app() -> Flask:
    """The app object behind the ``current_app`` proxy (to keep, or to key a cache by)."""
    # Flask types current_app as the app itself, not as the proxy it is.
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def current_state() -> PluginState:
    """The plugin's state for the current app."""
    try:
        state: PluginState = current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise ConfigurationError(
            "mirette-returns is not mounted on this app: call MiretteReturns(app, adapter=...) "
            "or ext.init_app(app, adapter=...) first."
        ) from None
    return state
