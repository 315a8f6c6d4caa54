"""The Message-IDs of the plugin's emails: one per email, and one per request to thread them.

Both are chosen when an email is queued and kept in its outbox row, so every
delivery attempt of one email carries the same Message-ID and a copy sent
twice is recognisable as one email.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from urllib.parse import urlsplit

from .mail_settings import links_root, sender
from .state import current_flask_app, current_state


def mail_domain() -> str:
    """The domain of the Message-IDs: the shop's setting, else the sender's, else the shop's host."""
    state = current_state()
    if state.config.get("MAIL_DOMAIN"):
        return str(state.config["MAIL_DOMAIN"]).strip().lower()
    app = current_flask_app()
    found = sender(app, state.config)
    if isinstance(found, (tuple, list)):
        found = found[-1]
    address = parseaddr(str(found or ""))[1]
    if "@" in address:
        return address.rsplit("@", 1)[1].lower()
    # The host the links point at (the same rule as the links themselves).
    return urlsplit(links_root(app, state.config)).hostname or "localhost"


def thread_id(request_id: int, domain: str) -> str:
    """The Message-ID every email of one request refers to, so they thread."""
    return f"<mirette-returns-request-{request_id}@{domain}>"


def message_id(event_key: str, token: str, domain: str) -> str:
    """A Message-ID for one email, stable across delivery attempts."""
    local = re.sub(r"[^A-Za-z0-9.-]+", ".", event_key).strip(".")
    return f"<mirette-returns.{local}.{token}@{domain}>"
