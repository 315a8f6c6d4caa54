"""CSRF protection of the plugin's forms.

A shop that already runs Flask-WTF's ``CSRFProtect`` protects the plugin's
blueprint with it (its token, its error page). Otherwise the plugin checks
Flask-WTF's token itself on every state-changing request of its blueprint,
honouring ``WTF_CSRF_ENABLED`` like ``CSRFProtect`` does. Either way every
form carries the token in a hidden field, and htmx sends that field with the
form.
"""

from __future__ import annotations

from flask import current_app, request
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms import ValidationError as WTFValidationError

from .errors import MiretteReturnsError
from .i18n import gettext as _

#: Methods that never change anything and are never checked.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

#: Headers a script may send the token in (Flask-WTF's defaults).
DEFAULT_HEADERS = ("X-CSRFToken", "X-CSRF-Token")


class CSRFRefused(MiretteReturnsError):
    """The form's CSRF token is missing, expired or wrong; nothing was done."""

    status_code = 400


def field_name() -> str:
    """Name of the hidden field that carries the token."""
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def csrf_token() -> str:
    """The token for the current session (Flask-WTF's)."""
    return generate_csrf()


def host_protects() -> bool:
    """Whether the shop's ``CSRFProtect`` already checks every request."""
    return "csrf" in current_app.extensions


def check_request() -> None:
    """``before_request`` of the blueprint: refuse a POST without a valid token."""
    if request.method in SAFE_METHODS or host_protects():
        return
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    token = request.form.get(field_name())
    if not token:
        for header in current_app.config.get("WTF_CSRF_HEADERS", DEFAULT_HEADERS):
            token = request.headers.get(header)
            if token:
                break
    try:
        validate_csrf(token)
    except WTFValidationError:
        raise CSRFRefused(
            _("This form has expired or did not come from this site. Reload the page and try again.")
        ) from None
