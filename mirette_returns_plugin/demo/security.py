"""Security headers on every response of the demo shop.

The pages (the shop's and the plugin's) carry no inline script or style, so a
strict Content-Security-Policy costs nothing and shows that the plugin works
under one. A view that needs another policy (the mailbox's email bodies) sets
its own header first; it is kept.
"""

from __future__ import annotations

from flask import Response

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

#: For an email's HTML body, shown in a sandboxed frame of the mailbox page:
#: nothing is loaded or run except the email's own inline styles and images
#: from the shop.
EMAIL_BODY_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox"
)


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
