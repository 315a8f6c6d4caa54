"""Signed-out visitors: to the shop's sign-in page, and back afterwards.

A buyer who follows an email link while signed out would otherwise meet the
page every stranger meets (404). When the shop says where people sign in
(``MIRETTE_RETURNS_LOGIN_URL``: a path, a URL or an endpoint name; or else
Flask-Login's ``login_view``), a signed-out visitor asking for a plugin page
is sent there with ``next`` set to that page. The shop's sign-in view must
send them back only to a path of its own site: :func:`safe_next` is the
check, for the shop's view to use too.
"""

from __future__ import annotations

from typing import TypeGuard
from urllib.parse import urlencode, urlsplit

from flask import current_app, request, url_for
from werkzeug.routing import BuildError

from .state import current_state

#: Query parameter carrying the page to come back to (Flask-Login's name).
NEXT_FIELD = "next"


def is_safe_next(target: object) -> TypeGuard[str]:
    """Whether ``target`` is a path on this site that a redirect may follow.

    Refused: anything not starting with exactly one ``/`` (``//evil.example``
    and ``/\\evil.example`` are other hosts to a browser), a scheme or a host,
    backslashes, and control characters (browsers drop tabs and newlines, so
    ``/\\t/evil.example`` would become ``//evil.example``).
    """
    if not isinstance(target, str) or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: object, default: str) -> str:
    """``target`` when :func:`is_safe_next` accepts it, else ``default``."""
    return target if is_safe_next(target) else default


def _sign_in_page() -> str | None:
    """Where the shop's visitors sign in, or ``None`` when the shop does not say."""
    target = current_state().config.get("LOGIN_URL")
    if not target:
        manager = getattr(current_app, "login_manager", None)
        target = getattr(manager, "login_view", None)
    if not target:
        return None
    target = str(target)
    if "/" in target:
        return target
    try:
        return url_for(target)
    except BuildError:
        return None


def login_redirect_url() -> str | None:
    """The sign-in page with ``next`` set to the page asked for, when the shop
    has a sign-in page and the page may be come back to (a plain GET)."""
    if request.method not in ("GET", "HEAD"):
        return None
    page = _sign_in_page()
    if page is None:
        return None
    query = f"?{request.query_string.decode('latin-1')}" if request.query_string else ""
    back = request.script_root + request.path + query
    if not is_safe_next(back):
        return None
    separator = "&" if "?" in page else "?"
    return f"{page}{separator}{urlencode({NEXT_FIELD: back})}"
