"""The plugin's own translation domain.

The plugin keeps its catalogue apart from the shop's (``mirette_returns``
domain, in ``translations/`` inside the package) so that a shop's own
``messages`` catalogue and the plugin's never collide. Every string a user
reads goes through the functions below.
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import Domain

TRANSLATIONS_DIR = str(Path(__file__).parent / "translations")

#: The plugin's gettext domain. A shop adds a language or rewords a string by
#: putting a ``mirette_returns.po`` next to its own catalogues (see the README).
domain = Domain(translation_directories=[TRANSLATIONS_DIR], domain="mirette_returns")

gettext = domain.gettext
ngettext = domain.ngettext
lazy_gettext = domain.lazy_gettext
lazy_ngettext = domain.lazy_ngettext
_ = gettext
_l = lazy_gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message
