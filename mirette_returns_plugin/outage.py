"""When the database cannot be reached: a 503 page, never a traceback.

A database that restarts, fails over or drops connections makes SQLAlchemy
raise :class:`~sqlalchemy.exc.OperationalError` (or ``InterfaceError``, or a
pool ``TimeoutError``) wherever the page happens to be. The plugin answers
that, on its own pages, with:

- ``503 Service Unavailable`` and ``Retry-After``, on a page in the
  visitor's language that needs nothing from the database (not even the
  shop's layout, which may read it), and, for a form, a copy of the form to
  send again as it was (its CSRF and submission tokens included, so a post
  that was saved after all is not saved twice);
- or, when this request already committed its write before the failure (a
  page re-read after saving), an answer that it is done: the change is
  saved, only the page that follows could not be shown.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, has_request_context, request
from flask_babel import force_locale, get_locale
from sqlalchemy import event, exc
from sqlalchemy.orm import Session

from . import htmx
from .i18n import gettext, ngettext
from .locales import SHIPPED_LOCALES, available_locales
from .state import current_state

#: Errors that mean "the database is not answering just now".
OUTAGE_ERRORS: tuple[type[Exception], ...] = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)

#: Seconds a visitor is asked to wait before trying again.
RETRY_AFTER_SECONDS = 10

TEMPLATE = "mirette_returns/unavailable.html"

#: Key in ``g`` once the request committed a transaction.
_COMMITTED = "mirette_returns_committed"


def register(blueprint: Blueprint) -> None:
    for error in OUTAGE_ERRORS:
        blueprint.register_error_handler(error, handle_outage)


@event.listens_for(Session, "after_commit")
def _remember_commit(session: Session) -> None:
    # Only a post saves what the visitor asked for; a page that was only
    # read may commit a read mark, which is no change of theirs.
    if has_request_context() and request.method == "POST":
        setattr(g, _COMMITTED, True)


def handle_outage(error: BaseException) -> Response:
    current_app.logger.warning("mirette-returns: database unavailable during %s %s: %s",
                               request.method, request.path, error)
    _forget_transaction()
    saved = bool(g.get(_COMMITTED))
    posted = request.method == "POST"
    context = {
        "_": gettext, "gettext": gettext, "ngettext": ngettext,
        "saved": saved,
        "resend": posted and not saved,
        "fields": list(request.form.items(multi=True)) if posted else [],
        # A form with a submission token finds its first copy instead of saving twice.
        "once": posted and bool(request.form.get("submission_token")),
        "had_photos": posted and any(item.filename for item in request.files.getlist("photos")),
        "action": request.full_path if request.query_string else request.path,
        "back": request.referrer if _same_site(request.referrer) else request.path,
        "fragment": htmx.wants_fragment(),
        "stylesheet": _stylesheet(),
    }
    with force_locale(_language()):
        context["lang"] = str(get_locale() or "en").replace("_", "-")
        # Not render_template: the shop's context processors may read the database.
        html = current_app.jinja_env.get_template(TEMPLATE).render(**context)
    response = current_app.response_class(html, status=200 if saved else 503,
                                          content_type="text/html; charset=utf-8")
    if not saved:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        if request.method == "GET" and htmx.details().request:
            # A poll or a fragment: keep the page as it is, the next poll retries.
            htmx.set_reswap(response, "none")
    response.headers["Cache-Control"] = "no-store"
    return htmx.add_vary(response)


def _forget_transaction() -> None:
    """Give the broken connection back; the session is usable again after."""
    try:
        current_state().session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; closing it is all we want
        current_app.logger.debug("mirette-returns: rollback after an outage failed", exc_info=True)


def _language() -> str:
    """The page's language, without asking the database.

    The shop's language choice may read the signed-in account: it is tried
    first (it may already be known for this request), then the browser's.
    """
    try:
        chosen = get_locale()
        if chosen is not None:
            return str(chosen)
    except OUTAGE_ERRORS:
        pass
    try:
        choices = available_locales()
    except Exception:  # noqa: BLE001 - the shop's catalogue folders: never worth a 500 here
        choices = list(SHIPPED_LOCALES)
    return request.accept_languages.best_match(choices) or "en"


def _stylesheet() -> str | None:
    try:
        from flask import url_for

        return url_for(f"{current_state().blueprint_name}.static", filename="mirette_returns/mirette-returns.css")
    except Exception:  # noqa: BLE001 - a page without its style is still a page
        return None


def _same_site(url: str | None) -> bool:
    return url is not None and url.startswith(request.host_url)
