"""Remember what a locale (and time zone) needs beside Flask-Babel's own state.

Flask-Babel keeps the current context's locale and time zone on
``g._flask_babel``. Things derived from them (a catalogue, date patterns)
are kept there too, with the very objects they were made for: when
``force_locale`` or ``refresh`` replaces those, the next call makes them again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import g, has_app_context

T = TypeVar("T")

#: Flask-Babel's per-context state on ``g``.
_BABEL_STATE = "_flask_babel"


def remembered(attribute: str, watched: tuple[str, ...], make: Callable[[], T]) -> T:
    """``make()``, kept as ``attribute`` of Flask-Babel's state while the
    ``watched`` attributes of that state (``babel_locale``, ``babel_tzinfo``)
    stay the same objects. ``make`` may create the state (it asks Flask-Babel)."""
    state = g.get(_BABEL_STATE) if has_app_context() else None
    kept = getattr(state, attribute, None)
    if kept is not None and all(made_for is getattr(state, name, None) for made_for, name in zip(kept[0], watched)):
        return kept[1]
    value = make()
    state = g.get(_BABEL_STATE) if has_app_context() else None
    if state is not None:
        setattr(state, attribute, (tuple(getattr(state, name, None) for name in watched), value))
    return value


def forget(attribute: str) -> None:
    """Make ``attribute`` again on next use, in the current context."""
    state = g.get(_BABEL_STATE) if has_app_context() else None
    if state is not None and hasattr(state, attribute):
        delattr(state, attribute)
