"""Rendered pieces of pages, kept per worker and served again while they hold.

A request's history rows and messages never change once written, and every
change to a request bumps its ``version``. So a piece of HTML drawn from one
request (its timeline, its row in a list) is the same for every reader in the
same language, time zone and date patterns while the version stays: it is
drawn once and kept here under a key naming all of that. A changed request
has a new version, hence a new key; nothing is ever invalidated, and several
app servers never disagree (each reads the version from the database).

The cache only holds HTML: whoever may read it is decided before, by the
page's access check, every time.

Bounded in bytes (``MIRETTE_RETURNS_FRAGMENT_CACHE_BYTES``, ``0`` turns it
off): the least recently used pieces go first, so a worker's memory stays
flat however many requests it serves.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Protocol, TypeVar

T = TypeVar("T")


class Versioned(Protocol):
    """A request row, as far as a key needs it."""

    @property
    def id(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def last_activity_at(self) -> datetime: ...


def request_key(name: str, request: Versioned, *more: Hashable) -> tuple[Hashable, ...]:
    """The key of the piece ``name`` drawn from ``request`` as it is now.

    The version changes with every change; the moment of the last activity
    is there too, so that a version drawn inside a transaction that was then
    rolled back can never stand for a later change given the same number.
    """
    return (name, request.id, request.version, request.last_activity_at, *more)


class FragmentCache:
    """Least recently used values, at most ``max_bytes`` of them (as sized by the caller)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self._kept: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        # Threaded workers (gthread) share one cache per app.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def size(self) -> int:
        """The bytes held, as the values' sizes were given."""
        return self._bytes

    def get_or_make(self, key: Hashable, make: Callable[[], T], size_of: Callable[[T], int] | None = None) -> T:
        """The value kept under ``key``, or ``make()``'s, kept for next time.

        ``make`` runs outside the lock: two threads may draw the same piece
        at once, and both draw the same thing."""
        if self.max_bytes == 0:
            return make()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                return kept[0]  # type: ignore[return-value]
        value = make()
        size = (size_of or _size_of)(value)
        if size > self.max_bytes:
            return value
        with self._lock:
            if key not in self._kept:
                self._kept[key] = (value, size)
                self._bytes += size
            while self._bytes > self.max_bytes:
                _key, (_value, dropped) = self._kept.popitem(last=False)
                self._bytes -= dropped
        return value

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._bytes = 0


def _size_of(value: object) -> int:
    return sys.getsizeof(value)
