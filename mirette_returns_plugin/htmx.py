"""What an htmx request asks for, and the response headers htmx reads.

Modelled on django-htmx: one small object answers "is this an htmx request,
a boosted one, a history restore?", and tiny helpers set the response
headers. Only headers that htmx 2 and htmx 4 both understand are used, so a
shop may load either version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TypeVar

from flask import Request, request as current_request
from werkzeug.wrappers import Response

#: Flask's response or werkzeug's (``redirect`` answers with the latter): handed back as given.
AnyResponse = TypeVar("AnyResponse", bound=Response)

#: Request headers a page's answer depends on; sent back in ``Vary`` so that
#: no cache (the browser's back button included) serves a fragment for a page.
VARY_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


@dataclass(frozen=True)
class HtmxDetails:
    """The htmx headers of one request."""

    #: Sent by htmx on every request it makes.
    request: bool
    #: A link or form enhanced with ``hx-boost``: it wants the whole page.
    boosted: bool
    #: htmx rebuilding a page of its history: it wants the whole page.
    history_restore: bool
    #: Id of the element the answer will be swapped into, when htmx sent it.
    target: str | None
    #: The page the browser shows.
    current_url: str | None

    @property
    def wants_fragment(self) -> bool:
        """Only a plain htmx request gets a fragment; everything else a page."""
        return self.request and not self.boosted and not self.history_restore

    def __bool__(self) -> bool:
        return self.request


def details(req: Request | None = None) -> HtmxDetails:
    """The htmx details of ``req`` (the current request by default)."""
    req = req if req is not None else current_request
    headers = req.headers
    return HtmxDetails(
        request=_is_true(headers.get("HX-Request")),
        boosted=_is_true(headers.get("HX-Boosted")),
        history_restore=_is_true(headers.get("HX-History-Restore-Request")),
        target=headers.get("HX-Target") or None,
        current_url=headers.get("HX-Current-URL") or None,
    )


def wants_fragment() -> bool:
    return details().wants_fragment


def add_vary(response: AnyResponse) -> AnyResponse:
    """Say that the answer depends on the htmx request headers."""
    for header in VARY_HEADERS:
        response.vary.add(header)
    return response


def set_redirect(response: AnyResponse, url: str) -> AnyResponse:
    """Ask htmx for a full page load of ``url``."""
    response.headers["HX-Redirect"] = url
    return response


def set_location(response: AnyResponse, url: str) -> AnyResponse:
    """Ask htmx to load ``url`` with an htmx request and push it to history."""
    response.headers["HX-Location"] = url
    return response


def set_refresh(response: AnyResponse) -> AnyResponse:
    """Ask htmx to reload the whole page."""
    response.headers["HX-Refresh"] = "true"
    return response


def set_retarget(response: AnyResponse, selector: str) -> AnyResponse:
    """Swap the answer into ``selector`` instead of the element's target."""
    response.headers["HX-Retarget"] = selector
    return response


def set_reswap(response: AnyResponse, swap: str) -> AnyResponse:
    """Swap the answer with ``swap`` (``outerHTML``, ``none``...) instead."""
    response.headers["HX-Reswap"] = swap
    return response


def set_trigger(response: AnyResponse, event: str, detail: object | None = None) -> AnyResponse:
    """Fire ``event`` on the element that made the request, once swapped."""
    response.headers["HX-Trigger"] = event if detail is None else json.dumps({event: detail})
    return response


#: Response handling that makes htmx 2 swap a form answered with its errors
#: (422), a stale or refused step (409, 403), like htmx 4 does by default;
#: no inline styles or ``eval`` so that pages work under a strict CSP.
HTMX_CONFIG = {
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "422", "swap": True},
        {"code": "409", "swap": True},
        {"code": "403", "swap": True},
        # The database did not answer: the message and a form to send again
        # (a poll's 503 says not to swap; see outage.py).
        {"code": "503", "swap": True},
        {"code": "[45]..", "swap": False, "error": True},
    ],
    "includeIndicatorStyles": False,
    "includeIndicatorCSS": False,
    "allowEval": False,
}


def config_json() -> str:
    """The ``htmx-config`` meta tag's content."""
    return json.dumps(HTMX_CONFIG, separators=(",", ":"))
