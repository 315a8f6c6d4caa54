"""Links the shop supplies (an artist's terms, a product page, an image),
checked before they go into an ``href`` or a ``src``.

Only ``http``, ``https`` and relative URLs are kept: a ``javascript:`` or
``data:`` URL in a shop's data (an artist typing their own terms URL) would
otherwise run in the buyer's page when clicked.
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: Schemes a shop-supplied link may use; ``""`` is a relative URL.
ALLOWED_SCHEMES = frozenset({"", "http", "https"})


def safe_url(value: object) -> str | None:
    """``value`` when it is an http(s) or relative URL, else ``None`` (no link)."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    # Browsers drop tabs and newlines anywhere in a URL ("java\tscript:"), and
    # read a backslash as a slash: neither has a place in a link a shop gives.
    if not url or "\\" in url or any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ALLOWED_SCHEMES:
        return None
    if parts.scheme and not parts.netloc:
        return None  # "http:evil.example" is no address
    if not parts.scheme and ":" in url.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        return None  # a scheme urlsplit did not recognise ("java script:")
    return url
