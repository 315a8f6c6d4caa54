"""Reading pages and emails for English left in a French text.

The English source strings of both catalogues (the plugin's and the demo
shop's) are what a French reader must never see. Each is cut at its
placeholders; a piece long enough to be telling, and that no French
translation also contains (brand names, "Total", "Photos"), is looked for in
the visible text, word-bounded, once the people's own data (product names,
messages, an English reader's emails) has been taken out.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

REPOSITORY = Path(__file__).resolve().parent.parent

#: Babel's French separators: narrow no-break space (thousands, before ; ? !
#: and %) and no-break space (before : and the currency sign).
NARROW_NBSP, NBSP = "\u202f", "\u00a0"

PLACEHOLDER = re.compile(r"%\([^)]*\)[sd]|%%|%[sd]")

#: Little English words no French sentence holds: a string nobody marked for
#: translation shows through them.
ENGLISH_WORDS = re.compile(r"\b(the|your|you|and|with|this|has|been|from|could|would|should|please)\b",
                           re.IGNORECASE)

#: Attributes a person reads (or hears, with a screen reader).
READ_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")


@cache
def translations_tool() -> ModuleType:
    """``scripts/translations.py``, what ``make translations`` runs."""
    path = REPOSITORY / "scripts" / "translations.py"
    spec = importlib.util.spec_from_file_location("mirette_translations_tool", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def spaces(text: str) -> str:
    """``text`` with no-break spaces as plain ones and whitespace collapsed."""
    return re.sub(r"\s+", " ", text.replace(NARROW_NBSP, " ").replace(NBSP, " ")).strip()


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.parts.append(f" {value} ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1


def visible_text(html: str) -> str:
    """The words of a page a person reads: text and read attributes, tags stripped."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    # Tags separate words: a line of a table is not one long word.
    return spaces(" ".join(parser.parts))


@cache
def _catalogue_messages() -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    tool = translations_tool()
    messages = []
    for spec in tool.CATALOGUES:
        for message in tool.read_catalog(spec.po("fr"), "fr"):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            messages.append((ids, strings))
    return tuple(messages)


def _telling(piece: str) -> bool:
    words = re.findall(r"[A-Za-z][A-Za-z']*", piece)
    return len(words) >= 2 or (len(words) == 1 and len(words[0]) >= 4)


@cache
def english_phrases() -> tuple[str, ...]:
    """The pieces of English source strings a French text must not contain."""
    messages = _catalogue_messages()
    french = spaces(" \n ".join(string for _, strings in messages for string in strings))
    found: set[str] = set()
    for ids, strings in messages:
        for english in ids:
            if english in strings:
                continue  # the same in French ("Message", "Photos")
            for piece in PLACEHOLDER.split(english):
                piece = spaces(piece).strip(" .,:;–-·()“”\"'«»#×")
                if _telling(piece) and not _contains(french, piece):
                    found.add(piece)
    return tuple(sorted(found, key=len, reverse=True))


def _contains(text: str, piece: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(piece)}(?![\w])", text) is not None


def without(text: str, user_data: list[str]) -> str:
    """``text`` minus the people's own words (longest first, so a name inside a sentence goes too)."""
    text = spaces(text)
    for value in sorted({spaces(value) for value in user_data if value and value.strip()}, key=len, reverse=True):
        text = text.replace(value, " ")
    return spaces(text)


def english_left(text: str, user_data: list[str]) -> list[str]:
    """English source strings, and little English words, in ``text``."""
    text = without(text, user_data)
    left = [phrase for phrase in english_phrases() if _contains(text, phrase)]
    left += [f"word {match.group(0)!r} in …{text[max(0, match.start() - 40):match.end() + 40]}…"
             for match in ENGLISH_WORDS.finditer(text)]
    return left
