"""Mounting the plugin on a shop's app: its settings read and checked, its
blueprint, its state, its languages, its emails, its limits and the
shortcut that answers quiet polls before Flask.

:class:`~.extension.MiretteReturns` mounts through :func:`mount` and adds the
``flask mirette-returns`` commands; the init command's dry run mounts a trial
app through it too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from . import config as defaults, locales, poll_shortcut, rate_limits, reminders, send_on_commit, windows, words
from .adapter import REQUIRED_METHODS, ShopAdapter
from .deployment import check_deployment
from .errors import ConfigurationError
from .fragments import FragmentCache
from .mail_settings import check_at_mount
from .mount_checks import check_base_template
from .photos import LocalPhotoStorage, PhotoStorage, PhotoStore
from .reasons import DEFAULT_REASONS, ReasonCatalogue
from .s3_photos import storage_from_settings
from .state import EXTENSION_KEY, PluginState
from .views import create_blueprint

PREFIX = "MIRETTE_RETURNS_"


def mount(app: Flask, adapter: ShopAdapter | None, photo_storage: PhotoStorage | None = None) -> None:
    """Mount the plugin on ``app`` with ``adapter`` (without the CLI)."""
    if EXTENSION_KEY in app.extensions:
        raise RuntimeError(
            "mirette-returns is already mounted on this app; call init_app once per app."
        )
    check_adapter(adapter)
    assert adapter is not None  # refused by check_adapter()
    db = app.extensions.get("sqlalchemy")
    if db is None:
        raise ConfigurationError(
            "mirette-returns uses the shop's Flask-SQLAlchemy: call db.init_app(app) "
            "before mounting it."
        )
    settings = read_config(app)
    check_deployment(app)
    check_at_mount(app, settings)
    reasons = ReasonCatalogue(settings["REASONS"] or DEFAULT_REASONS)
    storage = photo_storage or storage_from_settings(settings) or LocalPhotoStorage(
        settings["PHOTO_DIR"] or Path(app.instance_path) / "mirette_returns_photos"
    )
    photos = PhotoStore(
        storage,
        max_bytes=settings["MAX_PHOTO_BYTES"],
        max_pixels=settings["MAX_PHOTO_PIXELS"],
        max_edge=settings["PHOTO_MAX_EDGE"],
        thumbnail_edge=settings["THUMBNAIL_EDGE"],
        decoders=settings["PHOTO_DECODERS"],
        busy_wait=settings["PHOTO_BUSY_WAIT_SECONDS"],
    )
    blueprint = create_blueprint()
    # Flask-Babel first: the layout check parses with the app's Jinja
    # environment, which then knows ``{% trans %}``.
    _ensure_babel(app)
    check_base_template(app, blueprint, settings["BASE_TEMPLATE"])
    app.extensions[EXTENSION_KEY] = PluginState(
        adapter=adapter,
        db=db,
        config=settings,
        reasons=reasons,
        photos=photos,
        blueprint_name=blueprint.name,
        fragments=FragmentCache(settings["FRAGMENT_CACHE_BYTES"]),
    )
    app.register_blueprint(blueprint, url_prefix=settings["URL_PREFIX"])
    send_on_commit.install(app, settings)
    rate_limits.install(app)
    poll_shortcut.install(app, settings)


def read_config(app: Flask) -> dict[str, Any]:
    """Fill in the defaults once and return the settings without prefix."""
    settings = {}
    for key, value in defaults.DEFAULTS.items():
        settings[key[len(PREFIX):]] = app.config.setdefault(key, value)
    prefix = settings["URL_PREFIX"]
    if prefix and not str(prefix).startswith("/"):
        raise ConfigurationError("MIRETTE_RETURNS_URL_PREFIX must start with '/' (e.g. '/returns').")
    words.check_settings(settings)
    reminders.check_settings(settings)
    windows.check_minimum(settings)
    return settings


def check_adapter(adapter: object) -> None:
    """Refuse, with the fix in the message, an adapter that cannot work."""
    if adapter is None:
        raise ConfigurationError(
            "mirette-returns needs an adapter to your shop: MiretteReturns(app, adapter=YourAdapter()). "
            "See 'The adapter' in the README."
        )
    missing = [name for name in REQUIRED_METHODS if not callable(getattr(adapter, name, None))]
    if missing:
        raise ConfigurationError(
            f"{type(adapter).__name__} is missing adapter method(s): {', '.join(missing)}. "
            "Implement them (see mirette_returns_plugin.adapter.ShopAdapter)."
        )


def _ensure_babel(app: Flask) -> None:
    """Use the shop's Flask-Babel (and its locale selector) when it has one;
    otherwise set one up choosing the language as :mod:`.locales` says."""
    locales.install(app)
