"""The rows of the two lists (artist inbox, support list), each drawn once and kept.

A row shows its request's columns, the reader's words and date, its link,
and the unread mark. Every change to a request bumps its ``version`` except
the reader's "seen" marks (a plain UPDATE, see ``workflow.messages``), which
only move the unread mark: so a row's HTML is kept (:mod:`..fragments`)
under the request's id and version, the unread mark, and what the whole page
shares (the row template, the reader's language, zone and date patterns,
the catalogue, the seller word, the artist column, the link's prefix).

Which rows a viewer may list is the list's query, every time: the cache
only ever answers with the HTML of a row the query returned.

The words every row repeats (column labels, statuses, kinds, "%(num)s
items") are looked up once per app and language (:class:`ListWords`).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from flask import current_app, url_for
from flask_babel import get_locale
from markupsafe import Markup

from .. import fragments, labels, moments, words as shop_words
from ..domain import RequestKind
from ..i18n import domain, gettext as _, ngettext
from ..rendering import HELPERS
from ..state import current_state

#: A shop overrides this template to change the rows (docs/pages.md).
ROW_TEMPLATE = "mirette_returns/_request_row.html"

#: Quantities whose "%(num)s items" a :class:`ListWords` keeps (past it, each is
#: translated again: a list seldom shows large quantities).
_MOST_QUANTITIES = 100


class ListWords:
    """The words of the lists in one language, for the rows and the filters."""

    def __init__(self) -> None:
        #: The columns' headings, which each cell repeats for narrow screens.
        self.order_heading, self.item_heading = _("Order"), _("Item")
        self.buyer_heading, self.status_heading = _("Buyer"), _("Status")
        self.artist_heading = shop_words.seller_label()
        self.new, self.support_asked = _("New"), _("Support asked")
        self.whole_part = _("Their whole part of the order")
        #: The filters' choices, in the order they are offered.
        self.statuses: list[tuple[str, str]] = [(code, labels.status_label(code)) for code in labels.STATUS_LABELS]
        self.kinds: list[tuple[str, str]] = [(code, labels.kind_label(code)) for code in RequestKind.ALL]
        self._statuses: dict[object, str] = dict(self.statuses)
        self._statuses.update({key: labels.status_label(*key) for key in labels.KIND_STATUS_LABELS})
        self._kinds: dict[str, str] = dict(self.kinds)
        self._items: dict[int, str] = {}

    def status_of(self, status: str, kind: str) -> str:
        """A row's status, in the words that fit its kind (``labels.status_label``)."""
        return self._statuses.get((status, kind)) or self._statuses.get(status, status)

    def kind_of(self, kind: str) -> str:
        return self._kinds.get(kind, kind)

    def items(self, quantity: int) -> str:
        """``"3 items"``, translated once per quantity."""
        text = self._items.get(quantity)
        if text is None:
            text = ngettext("%(num)s item", "%(num)s items", quantity)
            if len(self._items) < _MOST_QUANTITIES:
                self._items[quantity] = text
        return text


def list_words() -> ListWords:
    """The lists' words in the reader's language, made once per app and language.

    Kept under what they depend on: the language and its catalogue (a new
    object once a shop's catalogue is read again), whether the shop is a
    marketplace, and what it calls its sellers."""
    key: tuple[Hashable, ...] = ("list-words", get_locale(), domain.get_translations(),
                                 shop_words.is_marketplace(), shop_words.seller_word())
    return current_state().fragments.get_or_make(key, ListWords, _words_size)


def _words_size(words: ListWords) -> int:
    # A rough figure: a few dozen short strings.
    return 4096


class RowDrawer:
    """Draws the rows of one list page: ``draw_row(row, is_unread)`` is the row's ``<tr>``."""

    def __init__(self, *, show_artist: bool, words: ListWords) -> None:
        state = current_state()
        self._fragments = state.fragments
        self._template = current_app.jinja_env.get_template(ROW_TEMPLATE)
        self._show_artist = show_artist
        self._words = words
        # Every row's link is this prefix and the row's id: one URL built, not one per row.
        self._detail_prefix = url_for(f"{state.blueprint_name}.request_detail", request_id=0)[:-1]
        # The template and the words are in the key as objects: a template
        # read again (a shop's edit, with auto-reload) or words made again (in
        # another language, or from a catalogue read again) draw the rows again.
        self._page_key = ("list-row", self._template, words, moments.formatter().reader_key,
                          show_artist, self._detail_prefix)

    def __call__(self, row: Any, is_unread: bool) -> Markup:
        return self._fragments.get_or_make(fragments.request_key("list-row", row, self._page_key, bool(is_unread)),
                                           lambda: self._draw(row, is_unread))

    def _draw(self, row: Any, is_unread: bool) -> Markup:
        return Markup(self._template.render(
            row=row, is_unread=is_unread, show_artist=self._show_artist, words=self._words,
            detail_url=f"{self._detail_prefix}{row.id}", mr=HELPERS, _=_, gettext=_, ngettext=ngettext,
        ))
