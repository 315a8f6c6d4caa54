"""What the demo's own pages check before they run: who may open the back
office, and how much a form may send.

The mailbox shows every email and the payments page moves money: a real shop
keeps both to its staff, so the demo does too (its support team). Its own
forms carry a token, an id, a language or a path back: a few kilobytes at
most, so a larger post is refused before it is read.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .signed_in import current_account

#: Largest body a form of the demo's own pages may post.
FORM_MAX_BYTES = 8 * 1024


def staff_only() -> Response | None:
    """``before_request`` of a back-office page: a visitor is sent to choose
    an account, any account but the support team's is refused."""
    account = current_account()
    if account is None:
        flash(_("Sign in as the support team to see this page."), "info")
        return redirect(url_for("demo.switch"), 303)
    if not account.is_support:
        abort(403)
    return None


def bounded_form() -> None:
    """``before_request``: refuse a post larger than any of the demo's forms."""
    if request.method != "POST":
        return
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if request.content_length is None and not chunked:
        return  # no body at all
    if request.content_length is None or request.content_length > FORM_MAX_BYTES:
        abort(413)
