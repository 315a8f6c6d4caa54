"""Bounds on what a visitor may send, checked before any view runs.

Hostile input must get a clear answer, never a database error: an id in the
URL beyond what an integer column holds (PostgreSQL and SQLite fail on the
value instead of finding nothing), a NUL character in a text field
(PostgreSQL refuses to store it), or a multipart field whose name is a lone
CR or LF (Werkzeug's parser then gives it no name at all). The size of a
post is bounded in ``views.common.limit_upload_size``, before the body is
read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import abort, request

from ..errors import MiretteReturnsError
from ..i18n import gettext as _
from ..state import current_state
from .common import not_found

#: Largest id of an integer primary key on every supported database
#: (a signed 32-bit ``INTEGER``).
MAX_ID = 2**31 - 1


class UnstorableText(MiretteReturnsError):
    """A field holds a character no database column can keep."""

    status_code = 400


def ids_out_of_range(values: dict[str, Any] | None) -> bool:
    """Whether an integer taken from the URL is beyond any row's id."""
    return any(isinstance(value, int) and value > MAX_ID for value in (values or {}).values())


def refuse_out_of_range_ids(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """``url_value_preprocessor`` of the plugin's blueprint: such an id is
    answered like any unknown one (the same 404 page)."""
    if ids_out_of_range(values):
        raise not_found()


def abort_on_out_of_range_ids(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The same for a shop's own routes (its usual 404 page), registered
    app-wide with ``app.url_value_preprocessor``; the plugin's own routes
    keep their own 404 page."""
    if (endpoint or "").startswith(f"{current_state().blueprint_name}."):
        return
    if ids_out_of_range(values):
        abort(404)


def _texts() -> Iterable[str | None]:
    """Every name and value of the query and the form; a name is ``None``
    when the multipart parser could not read it."""
    for values in (request.args, request.form):
        for name, value in values.items(multi=True):
            yield name
            yield value
    for name, upload in request.files.items(multi=True):
        yield name
        yield upload.filename or ""


def refuse_unstorable_text() -> None:
    """``before_request``: refuse a field without a name, or a NUL character
    anywhere in the query or the form, with a message, before anything is
    checked or saved."""
    texts = list(_texts())
    if any(text is None for text in texts):
        raise UnstorableText(_("What you sent has a field without a readable name. Reload the page and "
                               "try again."))
    if any("\x00" in text for text in texts if text is not None):
        raise UnstorableText(_("What you sent contains an invisible control character (NUL) that cannot be "
                               "saved. Remove it, or type the text again, and retry."))
