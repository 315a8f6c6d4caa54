"""The details page's quiet poll, answered before Flask sets up a request.

Every open details page asks every few seconds whether its request changed,
and most answers are "no" (204). With the key its page gave it
(:mod:`.poll_keys`) the view answers that from one read of the version, but
by then Flask has built its request and context, opened the session cookie,
matched the URL, chosen a language and run the shop's ``before_request``
hooks: most of the cost of the answer. This WSGI middleware, put around
``app.wsgi_app`` when the plugin is mounted (as Werkzeug's ``ProxyFix`` is),
gives that same 204 first, to a ``GET`` of the poll's URL

- whose key holds by the rule of :func:`.poll_keys.accepts`, the viewer read
  from the shop's own signed session cookie, decoded as Flask decodes it
  (same serializer, cookie name and maximum age), so a key still works only
  in the session it was issued to;
- whose query holds only the poller's ``after`` and ``actions``, and whose
  ``after`` is the request's version, read by :mod:`.poll_version`.

Anything else goes to Flask unchanged, which answers it as it always did: a
change, a missing, wrong or expired key, a key from another session, a
cookie or query it cannot read, an untrusted host, a database error. It can
only say "nothing new", and only to the session the key was issued to.

It stands aside, and the view's own fast path answers instead, when
``MIRETTE_RETURNS_POLL_BEFORE_FLASK`` is off; when the sessions are not
Flask's signed cookies (server-side sessions, a custom session interface) or
the app has no ``SECRET_KEY``; when the app runs Flask-Limiter with a limit
that would count polls (``MIRETTE_RETURNS_LIMIT_POLL``, or the limiter's
default or application limits); when the URL map matches hosts or
subdomains; and when ``app.wsgi_app`` was already wrapped by another
middleware at mounting time (``ProxyFix`` aside: the shortcut goes inside
it), since answering outside that middleware would skip it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from flask import Flask
from flask.ctx import RequestContext
from flask.sessions import SecureCookieSessionInterface
from flask.testing import EnvironBuilder
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from werkzeug.exceptions import SecurityError
from werkzeug.http import parse_cookie
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import get_host

from . import poll_keys, poll_version, rendering
from .state import EXTENSION_KEY
from .views.common import private_pages
from .views.details import NEWS_ENDPOINT
from .views.limits import MAX_ID

#: The WSGI types (PEP 3333), as the standard library names them from Python 3.11 on.
WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApplication = Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]

log = logging.getLogger(__name__)

#: The poll key's header, as the WSGI environ names it.
KEY_IN_ENVIRON = "HTTP_" + poll_keys.HEADER.upper().replace("-", "_")

#: The only query parameters the poller sends. Another one goes to Flask,
#: whose checks of the query (a NUL character, a field without a name) then
#: answer it as before.
POLLER_PARAMETERS = frozenset({"after", "actions"})

#: Most session cookies kept verified per app (a few hundred bytes each).
VERIFIED_COOKIES = 4096

#: The id in the poll's URL rule.
_ID_PART = "<int:request_id>"


@dataclass(frozen=True)
class Plan:
    """What the shortcut needs of one app, read once."""

    #: The poll's path (``PATH_INFO``, below any ``SCRIPT_NAME``), the id as group 1.
    path: re.Pattern[str]
    engine: sa.Engine
    #: Flask's own reader of the session cookie, its name and maximum age.
    serializer: URLSafeTimedSerializer
    #: One of its signers, for its clock.
    signer: TimestampSigner
    cookie_name: str
    max_age: int
    secret: object
    trusted_hosts: list[str] | None
    #: The 204 the view gives, status line and headers as sent.
    status: str
    headers: tuple[tuple[str, str], ...]
    #: Session cookies already verified: each one's viewer and signing time
    #: (a page's polls send the same cookie over and over).
    verified: dict[str, tuple[object, int]] = field(default_factory=dict)


class PollShortcut:
    """WSGI middleware: the quiet poll's 204, or the wrapped app."""

    def __init__(self, flask_app: Flask, wsgi_app: WSGIApplication) -> None:
        self.flask_app = flask_app
        self.wsgi_app = wsgi_app
        self._plan: Plan | None = None
        self._planned = False
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # Only a request carrying a poll key pays anything more than this test.
        if environ.get(KEY_IN_ENVIRON) is not None and environ.get("REQUEST_METHOD") == "GET":
            plan = self._plan if self._planned else self._make_plan()
            if plan is not None and nothing_new(plan, environ):
                start_response(plan.status, list(plan.headers))
                return []
        return self.wsgi_app(environ, start_response)

    def _make_plan(self) -> Plan | None:
        # At the first poll rather than at mounting: the shop may set up its
        # Flask-Limiter or its session interface after mounting the plugin.
        with self._lock:
            if not self._planned:
                try:
                    with self.flask_app.app_context():
                        self._plan = plan_for(self.flask_app)
                except Exception:  # noqa: BLE001 (the shortcut is optional: Flask answers instead)
                    log.warning("mirette-returns: the poll is answered inside Flask, the shortcut "
                                "before it could not be set up", exc_info=True)
                    self._plan = None
                self._planned = True
        return self._plan


def install(app: Flask, settings: dict[str, Any]) -> None:
    """Put the shortcut around ``app.wsgi_app`` (inside any ``ProxyFix``),
    unless ``POLL_BEFORE_FLASK`` is off or another middleware is there."""
    if not settings["POLL_BEFORE_FLASK"]:
        return
    holder: object = app
    attribute = "wsgi_app"
    inner: Any = app.wsgi_app
    while isinstance(inner, ProxyFix):
        holder, attribute, inner = inner, "app", inner.app
    if getattr(inner, "__self__", None) is not app or getattr(inner, "__func__", None) is not type(app).wsgi_app:
        log.info("mirette-returns: app.wsgi_app is already wrapped (%r); the poll is answered inside "
                 "Flask. Mount the plugin before wrapping it to answer quiet polls before Flask.", inner)
        return
    setattr(holder, attribute, PollShortcut(app, inner))


def plan_for(app: Flask) -> Plan | None:
    """The shortcut's plan for ``app`` (in its app context), or ``None`` when it stands aside."""
    interface = app.session_interface
    # Exactly Flask's own: a subclass may read its cookie another way.
    if type(interface) is not SecureCookieSessionInterface:
        return None
    serializer = interface.get_signing_serializer(app)
    if serializer is None:
        return None
    signer = serializer.make_signer(serializer.salt)
    if not isinstance(signer, TimestampSigner):
        return None
    if app.url_map.host_matching or app.subdomain_matching:
        return None
    state = app.extensions[EXTENSION_KEY]
    if limiter_counts_polls(app, state.config):
        return None
    rule = _news_rule(app, state.blueprint_name)
    if rule is None:
        return None
    before, after = rule
    status, headers = _quiet_answer(app, f"{before}1{after}")
    return Plan(
        # Digits as Flask's integer converter reads them, without leading
        # zeros; at most ten, the length of the largest id (MAX_ID).
        path=re.compile(f"{re.escape(before)}([1-9][0-9]{{0,9}}){re.escape(after)}"),
        engine=poll_version.engine(),
        serializer=serializer,
        signer=signer,
        cookie_name=interface.get_cookie_name(app),
        max_age=int(app.permanent_session_lifetime.total_seconds()),
        secret=app.config.get("SECRET_KEY"),
        trusted_hosts=app.config.get("TRUSTED_HOSTS"),
        status=status,
        headers=headers,
    )


def limiter_counts_polls(app: Flask, settings: dict[str, Any]) -> bool:
    """Whether the shop's Flask-Limiter would count a poll: ``LIMIT_POLL``
    (see :mod:`.rate_limits`), or limits of its own on every endpoint."""
    limiters = app.extensions.get("limiter")
    if not limiters:
        return False
    if settings["LIMIT_POLL"]:
        return True
    for limiter in limiters:
        try:
            manager = limiter.limit_manager
            if manager.default_limits or manager.application_limits:
                return True
        except AttributeError:
            # Another version of Flask-Limiter: assume it counts.
            return True
    return False


def _news_rule(app: Flask, blueprint_name: str) -> tuple[str, str] | None:
    """The poll's URL rule (with the blueprint's prefix) around its id;
    ``None`` for a rule of another shape."""
    rules = list(app.url_map.iter_rules(f"{blueprint_name}.{NEWS_ENDPOINT}"))
    if len(rules) != 1:
        return None
    before, found, after = rules[0].rule.partition(_ID_PART)
    if not found or "<" in before + after:
        return None
    return before, after


def _quiet_answer(app: Flask, example_path: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The view's "nothing new" as it leaves Flask: its 204, the plugin's
    ``after_request`` and the ``Vary: Cookie`` of a session that was read."""
    environ = EnvironBuilder(app, example_path).get_environ()
    # A request context of its own, without opening a session for it.
    with RequestContext(app, environ, session=app.session_interface.make_null_session(app)):
        from_view = private_pages(rendering.empty(204))
        from_view.vary.add("Cookie")
        headers = from_view.get_wsgi_headers(environ).to_wsgi_list()
    return from_view.status, tuple(headers)


def nothing_new(plan: Plan, environ: WSGIEnvironment) -> bool:
    """Whether this request is a keyed poll of a request whose version is its ``after``."""
    match = plan.path.fullmatch(environ.get("PATH_INFO", ""))
    if match is None:
        return False
    request_id = int(match.group(1))
    if request_id > MAX_ID:
        return False
    after = _after(environ.get("QUERY_STRING", ""))
    if after is None:
        return False
    if plan.trusted_hosts is not None:
        try:
            get_host(environ, plan.trusted_hosts)
        except SecurityError:
            return False
    cookie = parse_cookie(environ).get(plan.cookie_name)
    if not cookie or not poll_keys.accepts(environ[KEY_IN_ENVIRON], request_id, viewer_in(plan, cookie),
                                           plan.secret):
        return False
    try:
        version = poll_version.read(plan.engine, request_id)
    except sa.exc.SQLAlchemyError:
        # Flask reads it again, and reports the failure as on every page.
        return False
    return version is not None and after == str(version)


def viewer_in(plan: Plan, cookie: str) -> object:
    """The poll viewer's ref in a session cookie, read as Flask reads the
    cookie; ``None`` where Flask would find no session (a cookie forged,
    unreadable, or older than the sessions' lifetime)."""
    # The same clock as the check of the cookie's age in Flask.
    now = plan.signer.get_timestamp()
    known = plan.verified.get(cookie)
    if known is None:
        try:
            data, signed = plan.serializer.loads(cookie, max_age=plan.max_age, return_timestamp=True)
        except Exception:  # noqa: BLE001 (expired, forged or unreadable: Flask decides)
            return None
        if not isinstance(data, dict):
            return None
        known = (data.get(poll_keys.VIEWER_KEY), int(signed.timestamp()))
        if len(plan.verified) >= VERIFIED_COOKIES:
            try:
                del plan.verified[next(iter(plan.verified))]
            except (KeyError, RuntimeError, StopIteration):
                pass  # another thread made room first
        plan.verified[cookie] = known
    viewer_ref, signed_at = known
    # Flask's check of the age, again for a cookie verified before.
    if not 0 <= now - signed_at <= plan.max_age:
        return None
    return viewer_ref


def _after(query_string: str) -> str | None:
    """The ``after`` of a query holding only the poller's parameters, parsed
    as Flask parses ``request.args``; ``None`` for anything else."""
    try:
        pairs = parse_qsl(query_string.encode("latin-1").decode(), keep_blank_values=True,
                          errors="werkzeug.url_quote")
    except (UnicodeError, ValueError):
        return None
    after = None
    for name, value in pairs:
        if name not in POLLER_PARAMETERS or "\x00" in value:
            return None
        if name == "after" and after is None:
            after = value
    if after is None or not (after.isascii() and after.isdecimal()):
        return None
    return after
