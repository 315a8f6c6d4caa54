"""CSRF protection of the plugin's forms.

When the shop's Flask-WTF ``CSRFProtect`` has checked a request, the shop's
check stands (its token, its error page). A shop may run ``CSRFProtect``
without checking the plugin's forms, though: ``WTF_CSRF_CHECK_DEFAULT =
False`` (only the views it names are checked), the plugin's blueprint
exempted, or a method left out of ``WTF_CSRF_METHODS``. So the plugin does not
ask whether a ``CSRFProtect`` is registered but whether it passed this very
request (it marks ``g.csrf_valid``, and its ``before_request`` is app-wide, so
it runs before the blueprint's); otherwise the plugin checks Flask-WTF's
token itself on every state-changing request of its blueprint. Only
``WTF_CSRF_ENABLED = False`` turns the check off, as it does ``CSRFProtect``'s
(the plugin warns about it when mounted). Either way every form carries the
token in a hidden field, and htmx sends that field with the form.
"""

from __future__ import annotations

from flask import current_app, g, request
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
    name: str = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return name


def csrf_token() -> str:
    """The token for the current session (Flask-WTF's)."""
    return generate_csrf()


def host_checked() -> bool:
    """Whether the shop's ``CSRFProtect`` checked the current request, and passed it."""
    return bool(g.get("csrf_valid", False))


def check_request() -> None:
    """``before_request`` of the blueprint: refuse a POST without a valid token."""
    if request.method in SAFE_METHODS or host_checked():
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
