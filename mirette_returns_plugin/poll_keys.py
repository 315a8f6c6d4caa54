"""Keys that let the details page's poll answer "nothing new" cheaply.

Every open details page asks every few seconds whether its request changed.
Most answers are "no" (204), and finding out the viewer (the shop's
``current_user``, often a database read) would cost more than the answer.
So each full answer to someone allowed to see the page gives its poll a key:
an HMAC, made with the app's ``SECRET_KEY``, of the request id, the viewer's
ref and the moment the key expires, a few minutes later. The poll sends it
back in a request header (:data:`HEADER`, from the poller's ``hx-headers``),
never in the URL, so it does not reach access logs or ``Referer`` headers.

The viewer's ref is kept in the plugin's entry of the Flask session when the
key is issued, and read back from there when the poll comes: the key works
only in the session it was issued to, for the viewer it was issued to.
Someone else holding it (another buyer, a stranger, a copy from a log) has
another session, so the HMAC does not match. With a valid key, "no" is
answered from one indexed read of the request's version (before Flask sets
up the request when it can: :mod:`.poll_shortcut`); anything else (a
change, a missing, wrong or expired key) takes the full path, which checks
the viewer as every page does and gives a new key. A key reveals only
whether the request changed, and only for :data:`LIFETIME_SECONDS`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time

from flask import current_app, session

#: How long a key is accepted; each full answer of the poll or the page gives a new one.
LIFETIME_SECONDS = 5 * 60

#: Request header the poll carries the key in.
HEADER = "X-Mirette-Poll-Key"

#: The plugin's entry in the Flask session: the viewer the keys were issued to.
VIEWER_KEY = "mirette_returns_poll_viewer"

_PURPOSE = b"mirette-returns.poll-key"


def _now() -> int:
    return int(time.time())


@functools.lru_cache(maxsize=8)
def _derived_key(secret: bytes) -> bytes:
    # The app's secret, turned into a key for this purpose alone.
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


# Kept: an open page's polls check the same key again and again.
@functools.lru_cache(maxsize=4096)
def _mac(secret: object, request_id: int, viewer_ref: str, expires: int) -> str | None:
    if not secret:
        return None
    key = _derived_key(secret if isinstance(secret, bytes) else str(secret).encode())
    message = json.dumps([request_id, viewer_ref, expires]).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def issue(request_id: int, viewer_ref: str) -> str | None:
    """A key for ``viewer_ref``'s poll of ``request_id``, or ``None`` when the app has no secret key."""
    expires = _now() + LIFETIME_SECONDS
    mac = _mac(current_app.config.get("SECRET_KEY"), request_id, viewer_ref, expires)
    if mac is None:
        return None
    if session.get(VIEWER_KEY) != viewer_ref:
        session[VIEWER_KEY] = viewer_ref
    return f"{expires}.{mac}"


def accepts(key: str | None, request_id: int, viewer_ref: object, secret: object) -> bool:
    """Whether ``key`` was issued with ``secret`` for ``request_id`` to
    ``viewer_ref`` (the viewer named in the Flask session), and has not
    expired: the rule itself, for the view or for the shortcut before Flask."""
    if not key or len(key) > 64 or not key.isascii() or not isinstance(viewer_ref, str):
        return False
    expires_text, _dot, mac = key.partition(".")
    if not expires_text.isdecimal() or not 0 <= int(expires_text) - _now() <= LIFETIME_SECONDS:
        return False
    expected = _mac(secret, request_id, viewer_ref, int(expires_text))
    return expected is not None and hmac.compare_digest(expected, mac)


def is_valid(key: str | None, request_id: int) -> bool:
    """Whether ``key`` was issued by this app for ``request_id``, to the
    viewer of this session, and has not expired."""
    # Without a key the session is left untouched.
    return bool(key) and accepts(key, request_id, session.get(VIEWER_KEY), current_app.config.get("SECRET_KEY"))


def headers_json(key: str | None) -> str:
    """The poller's ``hx-headers`` value (``""`` without a key)."""
    return json.dumps({HEADER: key}) if key else ""
