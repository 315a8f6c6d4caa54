"""Which language a page is shown in when the shop has no Flask-Babel."""

from __future__ import annotations

from flask import has_request_context, request

from .state import current_state

#: Languages the plugin ships.
SHIPPED_LOCALES = ("en", "fr")


def available_locales() -> list[str]:
    state = current_state()
    extra = state.config.get("LOCALES") or ()
    return list(dict.fromkeys([*SHIPPED_LOCALES, *extra]))


def select_locale() -> str | None:
    """The adapter's word for the signed-in user first, then the browser's."""
    if not has_request_context():
        return None
    state = current_state()
    user = state.adapter.current_user()
    if user is not None and user.locale:
        return user.locale
    return request.accept_languages.best_match(available_locales()) or "en"
