"""What people type: a text of invisible characters is blank, and bidirectional
controls never reorder what the other party reads. The rules alone; on the
pages and in the emails: ``tests/test_pages_user_text.py``."""

from __future__ import annotations

from mirette_returns_plugin.user_text import is_blank, neutral_bidi

#: Zero-width space, joiners, word joiner, byte order mark, a Hangul filler, a tab, a newline.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u3164\t\n\u200b"
RLO, PDF, RLI, PDI = "\u202e", "\u202c", "\u2067", "\u2069"
SPOOF = f"Invoice {RLO}gpj.exe"


def test_the_rules_on_their_own():
    assert is_blank(INVISIBLE) and is_blank("") and is_blank(None) and not is_blank("\u200bok")
    assert neutral_bidi(SPOOF) == "Invoice gpj.exe"
    # An override is dropped with its closing mark; a paired isolate stays, an unpaired one goes.
    assert neutral_bidi(f"a {RLO}b{PDF} c") == "a b c"
    assert neutral_bidi(f"{RLI}שלום{PDI} {RLI}x") == f"{RLI}שלום{PDI} x"
    assert neutral_bidi(f"x{PDI}{PDF}y") == "xy"
