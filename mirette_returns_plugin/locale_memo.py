"""What the current locale and time zone need beside Flask-Babel, remembered per context.

A page asks for hundreds of strings and dozens of dates: the plugin's
catalogue and date patterns are looked up once per context and kept here,
in the plugin's own slot on :data:`flask.g`, with the very objects
Flask-Babel's public :func:`~flask_babel.get_locale` and
:func:`~flask_babel.get_timezone` returned when they were made. When
``force_locale`` (an email in its reader's language) or ``refresh`` gives
another locale, those functions return another object and the next call
makes the value again. Flask-Babel's own state is only ever read through
its public functions.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import is_
from typing import Any, TypeVar

from flask import g, has_app_context

T = TypeVar("T")

#: The plugin's own slot on ``g``: ``{name: (made for, value)}``.
_SLOT = "mirette_returns_locale_memo"


def remembered(name: str, made_for: tuple[Any, ...], make: Callable[[], T]) -> T:
    """``make()``, kept under ``name`` in the current context while
    ``made_for`` (the locale and time zone objects it was made for) stays
    the same objects."""
    if not has_app_context():
        return make()
    memo: dict[str, tuple[tuple[Any, ...], Any]] = g.setdefault(_SLOT, {})
    kept = memo.get(name)
    # Every string of a page passes here: a map, not a generator (several times as fast).
    if kept is not None and len(kept[0]) == len(made_for) and all(map(is_, kept[0], made_for)):
        return kept[1]  # type: ignore[no-any-return]
    value = make()
    memo[name] = (made_for, value)
    return value


def forget(name: str) -> None:
    """Make ``name`` again on next use, in the current context."""
    if has_app_context():
        g.get(_SLOT, {}).pop(name, None)
