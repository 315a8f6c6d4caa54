"""The plugin's endpoints under the shop's Flask-Limiter, when it runs one.

A shop with several app servers keeps its Flask-Limiter counts in a shared
storage (Redis, Memcached, ...): limits set here then hold across every
server, which the plugin's own per-user database checks
(``REQUESTS_PER_HOUR``, ``MESSAGES_PER_MINUTE``) do only for what they count.
Without Flask-Limiter nothing changes: those checks still apply, and they
keep applying beside these limits.

Limits are per signed-in user (per address for a visitor), set by the
``MIRETTE_RETURNS_LIMIT_*`` settings; an empty one leaves its endpoints
alone. They are put on the views the first time the app serves a request,
so the shop may set up its ``Limiter`` before or after mounting the plugin.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from .access import current_user
from .errors import MiretteReturnsError
from .i18n import ngettext
from .state import EXTENSION_KEY, current_flask_app
from .views.common import error_response

if TYPE_CHECKING:
    from flask_limiter import RequestLimit

#: Key in ``app.extensions`` once the limits are on the views.
APPLIED_KEY = "mirette_returns_rate_limits"

_lock = threading.Lock()


def install(app: Flask) -> None:
    """Put the limits on the plugin's views before the first request."""
    app.before_request(_apply_once)


def _apply_once() -> None:
    app = current_flask_app()
    if APPLIED_KEY in app.extensions:
        return
    with _lock:
        if APPLIED_KEY not in app.extensions:
            app.extensions[APPLIED_KEY] = apply(app)


def apply(app: Flask) -> list[str]:
    """Wrap the plugin's views with the shop's limiter; the endpoints limited.

    Nothing when the app has no Flask-Limiter.
    """
    limiters = app.extensions.get("limiter")
    if not limiters:
        return []
    limiter = next(iter(limiters))
    blueprint = app.extensions[EXTENSION_KEY].blueprint_name
    settings = {key: app.config[f"MIRETTE_RETURNS_LIMIT_{key}"] for key in ("POLL", "MESSAGE", "PHOTOS", "SUBMIT")}
    plan: dict[str, list[Callable[[Callable[..., Any]], Callable[..., Any]]]] = {}

    def add(endpoints: tuple[str, ...], decorator: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
        for endpoint in endpoints:
            plan.setdefault(f"{blueprint}.{endpoint}", []).append(decorator)

    common = {"key_func": _who, "on_breach": _refused}
    if settings["POLL"]:
        add(("request_news",), limiter.limit(settings["POLL"], methods=["GET"], **common))
    if settings["MESSAGE"]:
        add(("post_message",), limiter.limit(settings["MESSAGE"], methods=["POST"], **common))
    if settings["SUBMIT"]:
        # One count for every way of asking: a return, an exchange, a cancellation.
        add(("submit_return", "request_cancellation"),
            limiter.shared_limit(settings["SUBMIT"], "mirette_returns_submit", methods=["POST"], **common))
    if settings["PHOTOS"]:
        # Counted in photos, wherever they are attached; a post without any costs nothing.
        add(("submit_return", "request_cancellation", "post_message"),
            limiter.shared_limit(settings["PHOTOS"], "mirette_returns_photos", methods=["POST"],
                                 cost=_photo_count, exempt_when=lambda: _photo_count() == 0, **common))
    for endpoint, decorators in plan.items():
        view = app.view_functions[endpoint]
        for decorate in decorators:
            view = decorate(view)
        app.view_functions[endpoint] = view
    return sorted(plan)


def _who() -> str:
    """Whose count a request adds to: the signed-in user, else the address."""
    user = current_user()
    if user is not None:
        return f"user:{user.ref}"
    return f"address:{request.remote_addr or 'unknown'}"


def _photo_count() -> int:
    return sum(1 for item in request.files.getlist("photos") if item and item.filename)


def _refused(limit: RequestLimit) -> Response:
    """The plugin's own refusal page (or fragment), with ``Retry-After``."""
    wait = max(1, int(limit.reset_at - time.time()))
    refused = MiretteReturnsError(
        ngettext("You are doing this too often. Please wait %(num)s second and try again.",
                 "You are doing this too often. Please wait %(num)s seconds and try again.", wait))
    refused.status_code = 429
    response = error_response(refused)
    response.headers["Retry-After"] = str(wait)
    return response
