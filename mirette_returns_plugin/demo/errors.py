"""The shop's error pages: a clear message in the shop's layout, never a bare page."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


def register_error_pages(app: Flask) -> None:
    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, _error_page)


def _error_page(error: HTTPException) -> tuple[str, int]:
    titles = {
        400: _("This request could not be understood"),
        403: _("You cannot see this page"),
        404: _("Page not found"),
        405: _("This page cannot be used that way"),
        413: _("What you sent is too large"),
    }
    messages = {
        404: _("There is nothing here, or it belongs to another account. Check the address, or switch account."),
        403: _("This page belongs to another account. Switch account to see it."),
        413: _("This form sends a few words at most. Go back, reload the page and try again."),
    }
    code = error.code or 400
    return render_template(
        "demo/error.html",
        title=titles.get(code, titles[400]),
        message=messages.get(code, _("Go back and try again.")),
    ), code
