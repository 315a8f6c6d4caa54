"""What every POST form of the demo shop checks: its CSRF token, and where it
may send the visitor back to."""

from __future__ import annotations

from flask import current_app, request
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from ..sign_in import safe_next as plugin_safe_next


def csrf_problem() -> str | None:
    """Why the posted form cannot be trusted, or ``None`` when it can.

    Honours ``WTF_CSRF_ENABLED`` (off in most tests), like Flask-WTF does.
    """
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        from flask_babel import gettext as _

        return _("This form has expired. Please go back, reload the page and try again.")
    return None


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirect):
    the plugin's check, as the README tells a shop to use."""
    return plugin_safe_next(target, default)
