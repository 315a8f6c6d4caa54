"""The plugin's own translation domain.

The plugin keeps its catalogue apart from the shop's (``mirette_returns``
domain, in ``translations/`` inside the package) so that a shop's own
``messages`` catalogue and the plugin's never collide. Every string a user
reads goes through the functions below.

A shop rewords a string or adds a language without forking: it lists folders
in ``MIRETTE_RETURNS_TRANSLATIONS_DIRS``, each laid out like the plugin's
(``<folder>/<language>/LC_MESSAGES/mirette_returns.po`` and its ``.mo``).
They are searched before the plugin's own: a string the shop translates wins,
every other string keeps the plugin's translation (see docs/languages.md).
"""

from __future__ import annotations

import io
import logging
import os
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, has_app_context
from flask_babel import Domain, get_locale

from . import locale_memo

log = logging.getLogger(__name__)

#: The plugin's gettext domain: the file name of its catalogues.
DOMAIN_NAME = "mirette_returns"

#: The catalogues the plugin ships (English is the source language).
TRANSLATIONS_DIR = str(Path(__file__).parent / "translations")

#: Config key of the shop's own catalogue folders (also in ``config.py``).
DIRS_KEY = "MIRETTE_RETURNS_TRANSLATIONS_DIRS"

#: Loaded catalogues, per app and per locale: two apps in one process (tests,
#: a shop mounting the plugin twice) may list different folders.
_loaded: weakref.WeakKeyDictionary[Flask, dict[str, NullTranslations]] = weakref.WeakKeyDictionary()

#: Where the current context's catalogue is remembered (:mod:`.locale_memo`).
_REMEMBERED = "mirette_returns_translations"

#: Languages found in the shop's folders, per app.
_shop_locales: weakref.WeakKeyDictionary[Flask, list[str]] = weakref.WeakKeyDictionary()


def shop_translation_dirs(app: Flask | None = None) -> list[str]:
    """The shop's folders, first one first, relative ones under the app's root.

    The setting is a list, or one string with folders separated by ``;`` (as
    Flask-Babel's ``BABEL_TRANSLATION_DIRECTORIES``).
    """
    app = app or current_app
    value = app.config.get(DIRS_KEY) or ()
    if isinstance(value, (str, os.PathLike)):
        value = [part for part in str(value).split(";") if part.strip()]
    return [str(Path(app.root_path, str(folder).strip())) for folder in value]


def search_path(app: Flask | None = None) -> list[str]:
    """Where the plugin's catalogues are looked for, the first found winning."""
    return [*shop_translation_dirs(app), TRANSLATIONS_DIR]


def _candidate_names(locale: Locale) -> list[str]:
    """``fr_CA`` then ``fr``: a regional catalogue first, then the language's."""
    names = [str(locale)]
    if locale.territory:
        names.append(f"{locale.language}_{locale.territory}")
    names.append(locale.language)
    return list(dict.fromkeys(names))


def load_folder(folder: str, locale: Locale) -> Translations | None:
    """The ``mirette_returns`` catalogue of ``locale`` in ``folder``, if any.

    A compiled ``.mo`` is read as gettext does; a folder holding only the
    ``.po`` is compiled in memory (fuzzy entries left out), so a shop may drop
    in the text file alone.
    """
    for name in _candidate_names(locale):
        messages = Path(folder, name, "LC_MESSAGES")
        compiled = messages / f"{DOMAIN_NAME}.mo"
        if compiled.is_file():
            with compiled.open("rb") as handle:
                return Translations(fp=handle, domain=DOMAIN_NAME)
        source = messages / f"{DOMAIN_NAME}.po"
        if source.is_file():
            with source.open("rb") as handle:
                catalog = read_po(handle, locale=name, domain=DOMAIN_NAME)
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            return Translations(fp=buffer, domain=DOMAIN_NAME)
    return None


def load_catalogue(folders: Iterable[str], locale: Locale) -> NullTranslations:
    """``locale``'s catalogue merged over ``folders``, the first one winning.

    The plugin's own catalogue (last folder) is the base, so its plural rule
    is kept; each shop folder is merged on top of it, the first listed last.
    """
    merged: Translations | None = None
    for folder in reversed(list(folders)):
        found = load_folder(folder, locale)
        if found is None:
            continue
        if merged is None:
            merged = found
        else:
            merged.merge(found)
    return merged if merged is not None else NullTranslations()


class PluginDomain(Domain):
    """Flask-Babel's :class:`~flask_babel.Domain`, searching the shop's
    catalogues before the plugin's, with a cache per app."""

    def __init__(self) -> None:
        super().__init__(translation_directories=[TRANSLATIONS_DIR], domain=DOMAIN_NAME)

    @property
    def translation_directories(self) -> list[str]:
        return search_path() if has_app_context() else [TRANSLATIONS_DIR]

    def get_translations(self) -> NullTranslations:
        # A page asks for hundreds of strings: the catalogue is looked up
        # once per locale and context (``force_locale``, used for emails in
        # the recipient's language, and ``refresh`` are obeyed), and read
        # from disk once per locale and app.
        if not has_app_context() or "babel" not in current_app.extensions:
            return NullTranslations()
        locale = get_locale()
        if locale is None:
            return NullTranslations()
        return locale_memo.remembered(_REMEMBERED, (locale,), lambda: self._find_translations(locale))

    def _find_translations(self, locale: Locale) -> NullTranslations:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        cache = _loaded.setdefault(app, {})
        key = str(locale)
        if key not in cache:
            cache[key] = load_catalogue(search_path(app), locale)
        return cache[key]


def forget_loaded_catalogues(app: Flask | None = None) -> None:
    """Read the catalogues again on next use (after a shop edited one)."""
    locale_memo.forget(_REMEMBERED)
    if app is None:
        _loaded.clear()
        _shop_locales.clear()
    else:
        _loaded.pop(app, None)
        _shop_locales.pop(app, None)


def shop_locales(app: Flask | None = None) -> list[str]:
    """Languages the shop's folders hold a ``mirette_returns`` catalogue for."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if app not in _shop_locales:
        found = []
        for folder in shop_translation_dirs(app):
            if not os.path.isdir(folder):
                log.warning("mirette-returns: %s lists %s, which is not a folder.", DIRS_KEY, folder)
                continue
            for name in sorted(os.listdir(folder)):
                messages = Path(folder, name, "LC_MESSAGES")
                if (messages / f"{DOMAIN_NAME}.mo").is_file() or (messages / f"{DOMAIN_NAME}.po").is_file():
                    found.append(name)
        _shop_locales[app] = list(dict.fromkeys(found))
    return _shop_locales[app]


#: The plugin's gettext domain.
domain = PluginDomain()

gettext = domain.gettext
ngettext = domain.ngettext
lazy_gettext = domain.lazy_gettext
lazy_ngettext = domain.lazy_ngettext
_ = gettext
_l = lazy_gettext


class BoundCatalogue:
    """``gettext`` and ``ngettext`` on one catalogue, looked up once.

    For one render of a page, during which the locale cannot change:
    Flask-Babel's functions find the locale and the catalogue again for each
    of a page's fifty strings. Same results as :data:`gettext` and
    :data:`ngettext`.
    """

    def __init__(self, translations: NullTranslations) -> None:
        self._translations = translations

    def gettext(self, string: str, **variables: Any) -> str:
        found = self._translations.ugettext(string)
        return found if not variables else found % variables

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        found = self._translations.ungettext(singular, plural, num)
        return found % variables


def bound_catalogue() -> BoundCatalogue:
    """The current locale's catalogue, for one render (see :class:`BoundCatalogue`)."""
    return BoundCatalogue(domain.get_translations())


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


__all__ = [
    "DOMAIN_NAME", "N_", "TRANSLATIONS_DIR", "_", "_l", "domain", "forget_loaded_catalogues", "gettext", "lazy_gettext",
    "lazy_ngettext", "ngettext", "search_path", "shop_locales", "shop_translation_dirs",
]
