"""Which language a page is shown in.

The shop decides: when its Flask-Babel has a locale selector, that selector
answers for the plugin's pages too. Otherwise the plugin's pages are shown in
the language :func:`select_locale` chooses: the one the adapter gives for the
signed-in user, then the browser's ``Accept-Language``, then the shop's
default (``BABEL_DEFAULT_LOCALE``). Emails do not use this: each is written
in its recipient's language when it is sent (see :mod:`.mail_message`).

Only Flask-Babel's public API is used: a shop without Flask-Babel gets one
set up with ``Babel(app, locale_selector=select_locale)``; a shop whose
Flask-Babel has no selector keeps it as it is (its own pages keep its
default), and the plugin's pages run inside ``force_locale``.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, force_locale, get_babel

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


#: The plugin's own slot on ``g``: the ``force_locale`` of a plugin page.
_FORCED = "mirette_returns_forced_locale"


def install(app: Flask) -> None:
    """Use the shop's Flask-Babel, or set one up choosing as :func:`select_locale`.

    A shop may set up Flask-Babel after the plugin, with or without a
    selector: the check is made before each of the plugin's pages, so the
    shop's own selector wins whenever it has one, and is never replaced.
    """
    if "babel" not in app.extensions:
        Babel(app, locale_selector=select_locale)
    app.before_request(_choose_for_plugin_page)
    app.teardown_request(_release_plugin_page)


def _choose_for_plugin_page() -> None:
    """On the plugin's pages, when the shop's Flask-Babel has no selector,
    show the language :func:`select_locale` chooses."""
    if EXTENSION_KEY not in current_app.extensions or "babel" not in current_app.extensions or _FORCED in g:
        return
    if current_state().blueprint_name not in request.blueprints or get_babel().locale_selector is not None:
        return
    chosen = select_locale()
    if chosen:
        stack = ExitStack()
        stack.enter_context(force_locale(chosen))
        setattr(g, _FORCED, stack)


def _release_plugin_page(error: BaseException | None = None) -> None:
    stack = g.pop(_FORCED, None)
    if stack is not None:
        stack.close()
