"""Helpers every view shares: the signed-in user, forms, uploads, errors."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Response as PageResponse, redirect, request
from flask_babel import format_decimal
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from werkzeug.wsgi import LimitedStream

from .. import htmx, sign_in
from ..access import current_user
from ..errors import MiretteReturnsError, NotAllowed, NotFound, ValidationError
from ..i18n import gettext as _
from ..photos import PreparedPhoto
from ..rendering import render
from ..state import current_state

ERROR_TEMPLATE = "mirette_returns/error.html"


@dataclass
class FormState:
    """What a form shows: the values typed, the messages, its one-time token."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: Sent back with the form so that a second post of the same form
    #: (double click, retry) finds the first request instead of a new one.
    token: str = field(default_factory=lambda: secrets.token_hex(16))

    def get(self, name: str, default: Any = "") -> Any:
        value = self.values.get(name)
        return default if value is None else value


def text(name: str) -> str:
    """A text field of the posted form, stripped."""
    return (request.form.get(name) or "").strip()


def see_other(url: str) -> Response:
    """Post/redirect/get: answer a plain form post with a 303 to ``url``."""
    return htmx.add_vary(redirect(url, code=303))


def uploaded_files(name: str = "photos") -> list[FileStorage]:
    """The files posted in ``name``, without the empty part of a file input left blank."""
    return [item for item in request.files.getlist(name) if item and item.filename]


def prepare_photos(name: str = "photos") -> tuple[list[PreparedPhoto], str | None]:
    """Check and re-encode the posted photos.

    Returns the clean photos and the first problem found (or ``None``). The
    count is checked before any image is opened, so a post of many files costs
    nothing.
    """
    state = current_state()
    files = uploaded_files(name)
    most = state.config["MAX_PHOTOS"]
    if len(files) > most:
        return [], _("Attach at most %(most)s photos.", most=most)
    prepared = []
    for upload in files:
        try:
            prepared.append(state.photos.prepare(upload.stream, upload.filename or ""))
        except ValidationError as error:
            return [], error.errors.get("photos", error.message)
    return prepared, None


def dry_run_errors(attempt: Callable[[], object]) -> dict[str, str]:
    """The messages ``attempt`` (a workflow call with ``commit=False``) would
    give, with every change it made rolled back."""
    db = current_state().session
    try:
        attempt()
    except ValidationError as error:
        return dict(error.errors)
    except MiretteReturnsError as error:
        return {"__all__": error.message}
    finally:
        db.rollback()
    return {}


def error_response(error: MiretteReturnsError) -> PageResponse:
    """A refused request as a page with its message, never a bare error."""
    return render(ERROR_TEMPLATE, fragment=("error",), status=error.status_code, error=error,
                  message=error.message)


def handle_plugin_error(error: MiretteReturnsError) -> Response:
    # A signed-out visitor (an email link followed in another browser) may be
    # the buyer: the sign-in page, then back here, rather than a 404.
    if isinstance(error, (NotFound, NotAllowed)) and not htmx.wants_fragment() and current_user() is None:
        target = sign_in.login_redirect_url()
        if target is not None:
            return htmx.add_vary(redirect(target, code=302))
    return error_response(error)


def handle_too_large(error: RequestEntityTooLarge) -> Response:
    state = current_state()
    most = format_decimal(round(state.config["MAX_PHOTO_BYTES"] / 1024 / 1024, 1))
    refused = MiretteReturnsError(_("What you sent is too large. Attach at most %(count)s photos of "
                                    "%(most)s MB each.", count=state.config["MAX_PHOTOS"], most=most))
    refused.status_code = 413
    return error_response(refused)


def limit_upload_size() -> None:
    """``before_request``: bound a post's size when the shop sets no limit.

    The bound goes on the input stream, not on ``request.max_content_length``:
    that is read-only before Werkzeug 3.1, and shops still run 3.0. A declared
    length over the bound is refused at once; a body sent without a length
    (chunked) stops with the same 413 when it reaches the bound.
    """
    if request.method == "POST" and request.max_content_length is None:
        config = current_state().config
        # Photos, plus room for the text fields and the multipart framing.
        most = config["MAX_PHOTOS"] * config["MAX_PHOTO_BYTES"] + 1024 * 1024
        if (request.content_length or 0) > most:
            raise RequestEntityTooLarge()
        request.environ["wsgi.input"] = LimitedStream(request.environ["wsgi.input"], most, is_max=True)


def private_pages(response: Response) -> Response:
    """``after_request`` of the blueprint: every answer is about someone's
    orders and messages, so no cache keeps it (not the browser's back button
    after signing out, not a shared proxy). An answer that says otherwise (a
    photo, a static file) keeps its own."""
    if "Cache-Control" not in response.headers and not (request.endpoint or "").endswith(".static"):
        response.headers["Cache-Control"] = "no-store"
    return response


def not_found() -> NotFound:
    return NotFound(_("This page does not exist, or you may not see it."))
