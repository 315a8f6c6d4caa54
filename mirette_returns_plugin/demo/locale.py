"""The demo shop's languages: the one a page is shown in, and its own words.

The shop's words are in Flask-Babel's default ``messages`` domain (a
``translations/`` folder beside this module, once someone translates them);
the plugin's words are in its own domain and need nothing from the shop.
"""

from __future__ import annotations

from flask import has_request_context, request, session
from flask_babel import get_locale, gettext

from .signed_in import current_account

#: The languages the language switch offers, with their own names.
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}


def select_locale() -> str | None:
    """The language picked with the switch, then the account's, then the browser's."""
    if not has_request_context():
        return None  # Flask-Babel's default (English)
    # Only the language switch writes it, with one of LANGUAGES.
    chosen: str | None = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    account = current_account()
    if account is not None and account.locale in LANGUAGES:
        return account.locale
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def shop_gettext(message: str, **variables: object) -> str:
    """The shop's ``gettext``, under a name the plugin's pages do not shadow."""
    return gettext(message, **variables)



def current_language() -> str:
    """The language code of the page being rendered (``en``, ``fr``)."""
    return str(get_locale() or "en")
