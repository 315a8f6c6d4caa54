"""Who the emails are from and where their links point: one rule each.

Both come from the shop's configuration only. The root of an email's links is
never read from a request (its ``Host`` or ``X-Forwarded-Host`` header): a
visitor choosing the header of the request that causes an email would choose
where the genuine email sends its reader. Outside debug and testing, mounting
the plugin without either setting is refused (see :func:`check_at_mount`).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from .errors import ConfigurationError

log = logging.getLogger(__name__)

#: The settings a message names (with their prefix, as the shop writes them).
SENDER_SETTINGS = "MIRETTE_RETURNS_MAIL_SENDER or MAIL_DEFAULT_SENDER"
BASE_URL_SETTING = "MIRETTE_RETURNS_EXTERNAL_BASE_URL"

#: Root of the links while developing or testing with neither setting.
FALLBACK_ROOT = "http://localhost"


def sender(app: Flask, settings: dict[str, Any]) -> Any:
    """Who the plugin's emails are from, or ``None`` when nothing says."""
    mail = app.extensions.get("mail")
    found = settings.get("MAIL_SENDER") or (mail.default_sender if mail is not None else None)
    return found or app.config.get("MAIL_DEFAULT_SENDER") or None


def links_root(app: Flask, settings: dict[str, Any]) -> str:
    """The absolute root every link of an email starts with, without a final ``/``.

    ``MIRETTE_RETURNS_EXTERNAL_BASE_URL``, else ``SERVER_NAME`` with
    ``PREFERRED_URL_SCHEME`` and ``APPLICATION_ROOT``; :data:`FALLBACK_ROOT`
    only where :func:`check_at_mount` allowed it (debug, testing).
    """
    base = settings.get("EXTERNAL_BASE_URL")
    if base:
        return str(base).rstrip("/")
    server = app.config.get("SERVER_NAME")
    if not server:
        return FALLBACK_ROOT
    scheme = app.config.get("PREFERRED_URL_SCHEME") or "http"
    root = (app.config.get("APPLICATION_ROOT") or "/").rstrip("/")
    return f"{scheme}://{server}{root}"


def check_at_mount(app: Flask, settings: dict[str, Any]) -> None:
    """Refuse (in production) or warn (debug, testing) when emails cannot be right.

    Refused outside debug and testing, because the first sign would otherwise
    be emails that never leave, or links that point wherever a visitor chose.
    """
    lenient = bool(app.debug or app.testing)
    problems = []
    if not sender(app, settings):
        problems.append(
            f"nothing says who emails are from: set {SENDER_SETTINGS} (e.g. 'My Shop <orders@myshop.example>')")
    base = settings.get("EXTERNAL_BASE_URL")
    if base:
        parts = urlsplit(str(base))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"{BASE_URL_SETTING} must be an absolute http(s) URL such as 'https://shop.example', not {base!r}.")
    elif not (app.config.get("SERVER_NAME") and (app.config.get("TRUSTED_HOSTS") or lenient)):
        problems.append(
            f"nothing says where the links of emails point: set {BASE_URL_SETTING} to your shop's public root "
            "(e.g. 'https://shop.example'), or SERVER_NAME together with TRUSTED_HOSTS; links are never built "
            "from a request's Host header")
    if not problems:
        return
    if not lenient:
        raise ConfigurationError("mirette-returns: " + "; ".join(problems) + ".")
    if not base and not app.config.get("SERVER_NAME"):
        problems.append(f"until then links start with {FALLBACK_ROOT}")
    log.warning("mirette-returns (allowed only in debug and testing): %s.", "; ".join(problems))
