"""Keys that let the details page's poll answer "nothing new" cheaply.

Every open details page asks every few seconds whether its request changed.
Most answers are "no" (204), and finding out the viewer (the shop's
``current_user``, often a database read) would cost more than the answer.
So the page's poll URL carries a key the server gave to someone who was
allowed to see the page: an HMAC of the request id and the day it was
issued, made with the app's ``SECRET_KEY``. With a valid key, "no" is
answered from one indexed read of the request's version; anything else (a
change, a missing, wrong or expired key) takes the full path, which checks
the viewer as every page does. A key reveals only whether the request
changed, and only on the day it was issued and the next (24 to 48
hours); after that, each poll checks the viewer again. A key is not tied to
the viewer: someone who signs out keeps learning "nothing new" until it
expires, never what changed.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app

#: Days a key is accepted after the day it was issued (a page left open
#: longer polls through the full check).
VALID_DAYS = 1

_PURPOSE = b"mirette-returns.poll-key"


def _today() -> int:
    return int(time.time() // 86400)


def _mac(request_id: int, day: int) -> str | None:
    secret = current_app.config.get("SECRET_KEY")
    if not secret:
        return None
    key = hmac.new(secret if isinstance(secret, bytes) else str(secret).encode(), _PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, f"{request_id}:{day}".encode(), hashlib.sha256).hexdigest()[:32]


def issue(request_id: int) -> str | None:
    """A key for the poll of ``request_id``, or ``None`` when the app has no secret key."""
    day = _today()
    mac = _mac(request_id, day)
    return f"{day}.{mac}" if mac else None


def is_valid(key: str | None, request_id: int) -> bool:
    """Whether ``key`` was issued for ``request_id`` by this app, recently enough."""
    if not key or len(key) > 64 or not key.isascii():
        return False
    day_text, _dot, mac = key.partition(".")
    if not day_text.isdecimal() or not 0 <= _today() - int(day_text) <= VALID_DAYS:
        return False
    expected = _mac(request_id, int(day_text))
    return expected is not None and hmac.compare_digest(expected, mac)
