"""What counts as a blank text, and how a typed text is shown to others.

Two rules about the texts people type (messages, comments, notes), kept here
once:

- A text made only of invisible characters (spaces, zero-width spaces and
  joiners, a byte order mark, fillers that draw nothing) says nothing: it is
  refused wherever a blank one is.
- Bidirectional controls must not reorder what the other party reads
  ("Invoice \\u202egpj.exe" would show as "Invoice exe.jpg"). Overrides
  (U+202D, U+202E) are removed, and so is every embedding, isolate or
  closing mark left without its pair; paired embeddings and isolates stay,
  since right-to-left writers use them and they end where they close. The
  stored text is left as typed: this is applied where a text is shown, in
  pages and in both parts of an email, and pages and HTML emails isolate
  each text (``dir="auto"``) so its direction never spills onto the words
  around it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import overload

#: Characters that draw nothing, though Unicode files them as letters or marks.
_BLANK_LETTERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")

_OVERRIDES = frozenset("\u202d\u202e")  # LRO, RLO
_EMBEDDINGS = frozenset("\u202a\u202b")  # LRE, RLE
_ISOLATES = frozenset("\u2066\u2067\u2068")  # LRI, RLI, FSI
_POP_FORMATTING = "\u202c"  # PDF: closes an embedding or an override
_POP_ISOLATE = "\u2069"  # PDI: closes an isolate
_BIDI_CONTROLS = _OVERRIDES | _EMBEDDINGS | _ISOLATES | {_POP_FORMATTING, _POP_ISOLATE}
# One scan in C: most texts hold none, and a page shows dozens of them.
_ANY_BIDI_CONTROL = re.compile("[" + "".join(sorted(_BIDI_CONTROLS)) + "]")


def _draws_nothing(character: str) -> bool:
    # Cf: format characters (U+200B–U+200F, U+2060, U+FEFF, bidi controls…);
    # Z*: separators; Cc: control characters such as tabs and newlines.
    return character in _BLANK_LETTERS or unicodedata.category(character)[0] in "Z" or \
        unicodedata.category(character) in ("Cf", "Cc")


def is_blank(text: str | None) -> bool:
    """Whether ``text`` shows nothing at all once drawn."""
    return not text or all(_draws_nothing(character) for character in text)


def visible_or_empty(text: str | None) -> str:
    """``text`` trimmed, or ``""`` when it shows nothing (see :func:`is_blank`)."""
    trimmed = (text or "").strip()
    return "" if is_blank(trimmed) else trimmed


@overload
def neutral_bidi(text: str) -> str: ...
@overload
def neutral_bidi(text: None) -> None: ...
def neutral_bidi(text: str | None) -> str | None:
    """``text`` without overrides and without unpaired bidirectional controls."""
    if not text or not _ANY_BIDI_CONTROL.search(text):
        return text
    keep = [True] * len(text)
    # Open controls, innermost last: (position, closing character).
    opened: list[tuple[int, str]] = []
    for position, character in enumerate(text):
        if character in _OVERRIDES:
            keep[position] = False
            opened.append((position, _POP_FORMATTING))
        elif character in _EMBEDDINGS:
            opened.append((position, _POP_FORMATTING))
        elif character in _ISOLATES:
            opened.append((position, _POP_ISOLATE))
        elif character in (_POP_FORMATTING, _POP_ISOLATE):
            match = next((index for index in range(len(opened) - 1, -1, -1) if opened[index][1] == character), None)
            if match is None:
                keep[position] = False
                continue
            # Controls opened inside the one closed here end with it, unpaired.
            for inner, _closer in opened[match + 1:]:
                keep[inner] = False
            opener, _closer = opened[match]
            del opened[match:]
            if not keep[opener]:  # the close of an override goes with it
                keep[position] = False
        elif character in "\n\r\u2029":
            # A paragraph ends every embedding and isolate still open.
            for inner, _closer in opened:
                keep[inner] = False
            opened.clear()
    for inner, _closer in opened:
        keep[inner] = False
    return "".join(character for character, kept in zip(text, keep, strict=True) if kept)
