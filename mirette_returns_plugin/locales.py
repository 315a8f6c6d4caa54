"""Which language a page is shown in.

The shop decides: when its Flask-Babel has a locale selector, that selector
answers for the plugin's pages too. Otherwise the plugin gives Flask-Babel
:func:`select_locale`: the language the adapter gives for the signed-in user,
then the browser's ``Accept-Language``, then the shop's default
(``BABEL_DEFAULT_LOCALE``). Emails do not use this: each is written in its
recipient's language (see :mod:`.notifications`).
"""

from __future__ import annotations

import logging

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, has_request_context, request

from .access import current_user
from .i18n import shop_locales
from .state import EXTENSION_KEY, current_state

log = logging.getLogger(__name__)

#: Languages the plugin ships (English is the source language).
SHIPPED_LOCALES = ("en", "fr")


def available_locales() -> list[str]:
    """Languages the plugin can show: its own, the shop's catalogues', ``LOCALES``."""
    state = current_state()
    extra = state.config.get("LOCALES") or ()
    if isinstance(extra, str):
        extra = [part.strip() for part in extra.replace(";", ",").split(",") if part.strip()]
    return list(dict.fromkeys([*SHIPPED_LOCALES, *shop_locales(), *extra]))


def parse_locale(value: object) -> Locale | None:
    """``"fr-FR"``, ``"fr_FR"`` or ``"fr"`` as a Babel locale; ``None`` if unknown."""
    if not value:
        return None
    try:
        return Locale.parse(str(value).strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def supported(value: object) -> str | None:
    """``value`` as Babel writes it when the plugin can show that language.

    A region is kept (``fr_CA`` formats dates and money the Canadian way)
    as long as its language is available.
    """
    locale = parse_locale(value)
    if locale is None:
        return None
    available = available_locales()
    if str(locale) in available or locale.language in available:
        return str(locale)
    return None


def select_locale() -> str | None:
    """The adapter's word for the signed-in user, then the browser's.

    ``None`` lets Flask-Babel use the shop's ``BABEL_DEFAULT_LOCALE``.
    """
    if not has_request_context() or EXTENSION_KEY not in current_app.extensions:
        return None
    user = current_user()
    if user is not None and user.locale:
        chosen = supported(user.locale)
        if chosen:
            return chosen
        log.debug("mirette-returns: no catalogue for the user's language %r.", user.locale)
    return request.accept_languages.best_match(available_locales())


def install(app: Flask) -> None:
    """Use the shop's Flask-Babel; give it :func:`select_locale` when it has no selector.

    A shop may set up Flask-Babel after the plugin: the check is made again
    before each request, so its own selector wins whenever it has one.
    """
    if "babel" not in app.extensions:
        from flask_babel import Babel

        Babel(app, locale_selector=select_locale)

    def adopt_shop_babel() -> None:
        babel = app.extensions.get("babel")
        if babel is not None and babel.locale_selector is None:
            babel.locale_selector = select_locale

    adopt_shop_babel()
    app.before_request(adopt_shop_babel)
