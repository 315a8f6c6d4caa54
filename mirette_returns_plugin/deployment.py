"""Settings that are fine in a demo or a test, and a trap in production.

Checked once, when the plugin is mounted. "Production" is anything that is
neither ``app.debug`` nor ``app.testing``:

- the secret key the demo shop shipped with is public (it is in this
  package): anyone could sign a session cookie as any account with it, so
  the plugin refuses to start with it;
- ``WTF_CSRF_ENABLED = False`` leaves every form of the plugin open to other
  sites (a warning, also in debug: tests turn it off on purpose);
- ``SESSION_COOKIE_SECURE`` off lets the session cookie travel over plain
  HTTP (a warning).

The warnings go to the ``mirette_returns_plugin`` logger.
"""

from __future__ import annotations

import logging

from flask import Flask

from .errors import ConfigurationError

log = logging.getLogger("mirette_returns_plugin")

#: Secret keys published with this package (the demo shop's, before it made
#: one per instance folder): never a secret.
PUBLIC_SECRET_KEYS = frozenset({"demo-only-secret-key"})


def is_relaxed(app: Flask) -> bool:
    """Debug or testing: where convenience settings are expected."""
    return bool(app.debug or app.testing)


def check_deployment(app: Flask) -> None:
    """Refuse the demo's secret key outside debug and testing; warn about
    settings that leave the shop's visitors exposed."""
    relaxed = is_relaxed(app)
    secret = app.config.get("SECRET_KEY")
    if isinstance(secret, bytes):
        secret = secret.decode("utf-8", "replace")
    if not relaxed and secret in PUBLIC_SECRET_KEYS:
        raise ConfigurationError(
            f"SECRET_KEY is the demo shop's published key ({secret!r}): anyone can sign a session with it. "
            "Set a random one of your own (python -c 'import secrets; print(secrets.token_hex(32))'), "
            "or run with debug or testing on."
        )
    if not app.config.get("WTF_CSRF_ENABLED", True):
        log.warning("mirette-returns: WTF_CSRF_ENABLED is off, so the plugin's forms are not checked "
                    "against cross-site requests. Turn it on outside tests.")
    if not relaxed and not app.config.get("SESSION_COOKIE_SECURE", False):
        log.warning("mirette-returns: SESSION_COOKIE_SECURE is off, so the session cookie (who is signed in) "
                    "is also sent over plain HTTP. Set SESSION_COOKIE_SECURE = True when the shop is served "
                    "over HTTPS.")
