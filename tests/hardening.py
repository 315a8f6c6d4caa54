"""Shared by the hardening tests: a world with private data, what must not
change, and the app served over real HTTP.

``build_world`` empties the database, seeds the demo shop again and gives
Camille (buyer) a return with a photo and a private message, and a
cancellation, both on Atelier Lune's items. The strings in
:data:`PRIVATE_MARKERS` must never reach anyone who has no role on them.
"""

from __future__ import annotations

import http.client
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from flask import Flask
from PIL import Image
from werkzeug.serving import make_server

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import Account, PaymentRefund, Shipment, db
from mirette_returns_plugin.demo.seed import seed
from mirette_returns_plugin.models import HistoryEntry, Message, OutboxEmail, Photo, Refund, Request
from mirette_returns_plugin.state import current_state
from tests import seeded
from tests.conftest import all_tables
from tests.shop import CAMILLE, artist_ref, line_ref, login, order_ref, user

#: Written by Camille to Atelier Lune only.
SECRET_MESSAGE = "Parcel locker code 4921, please keep it between us"
SECRET_CANCEL = "Cancel quietly: it was a gift for Jeanne"
#: What identifies Camille's return to someone who should not know of it.
PRIVATE_MARKERS = ("Speckled mug", "MIR-1004", "MIR-1001", SECRET_MESSAGE, SECRET_CANCEL)


#: The test config of ``conftest.app_config``, for the apps these tests make
#: themselves (one per module, or served over HTTP).
BASE_CONFIG = {
    "TESTING": True,
    "DEMO_SEED": False,
    "WTF_CSRF_ENABLED": False,
    "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
    "MIRETTE_RETURNS_REQUESTS_PER_HOUR": 0,
    "MIRETTE_RETURNS_MESSAGES_PER_MINUTE": 0,
    "MAIL_SUPPRESS_SEND": True,
    "SERVER_NAME": "shop.test",
}


@dataclass(frozen=True)
class World:
    order: str  # MIR-1004, Camille's delivered order
    line: str  # its Speckled mug line (Atelier Lune, 4 bought)
    pending_order: str  # MIR-1002: parts not processed yet, may be cancelled
    ret: int  # Camille's return of one mug, with a photo and a message
    ret_version: int
    cancel: int  # Camille's cancellation of MIR-1001 (Atelier Lune)
    cancel_version: int
    photo: int


def jpeg(width: int = 24, height: int = 16, color: tuple[int, int, int] = (150, 60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="JPEG")
    return out.getvalue()


def reset(app: Flask) -> None:
    """Empty every table and seed the demo shop again (its people in their own
    languages); on SQLite, a copy of the seeded database (``tests/seeded.py``)."""
    with app.app_context():
        db.session.remove()
        if seeded.restore(app.config["SQLALCHEMY_DATABASE_URI"], english=False):
            return
        with db.engine.begin() as connection:
            for table in all_tables():
                connection.execute(table.delete())
        seed()
        db.session.remove()


def build_world(app: Flask, *, fresh: bool = True) -> World:
    if fresh:
        reset(app)
    with app.test_request_context():
        camille = user(CAMILLE)
        photo = current_state().photos.prepare(io.BytesIO(jpeg()), "damage.jpg")
        ret = workflow.submit_return(camille, order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="damaged",
            comment="The glaze is chipped", photos=[photo]))
        workflow.post_message(camille, ret.id, SECRET_MESSAGE)
        [cancel] = workflow.request_cancellation(camille, order_ref("MIR-1001"), [artist_ref("lune@artists.example")],
                                                 message=SECRET_CANCEL)
        db.session.expire_all()
        world = World(
            order=order_ref("MIR-1004"),
            line=line_ref("MIR-1004", "Speckled mug"),
            pending_order=order_ref("MIR-1002"),
            ret=ret.id,
            ret_version=db.session.get(Request, ret.id).version,
            cancel=cancel.id,
            cancel_version=db.session.get(Request, cancel.id).version,
            photo=db.session.scalar(sa.select(Photo.id).where(Photo.request_id == ret.id)),
        )
        db.session.remove()
    return world


def snapshot(app: Flask) -> tuple:
    """Everything a refused request must leave as it was (not the "seen" times)."""
    with app.app_context():
        db.session.remove()
        counts = tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Request, Message, HistoryEntry, Photo, Refund, OutboxEmail, PaymentRefund, Account)
        )
        requests = tuple(tuple(row) for row in db.session.execute(
            sa.select(Request.id, Request.kind, Request.status, Request.version, Request.escalated,
                      Request.quantity, Request.comment).order_by(Request.id)))
        messages = tuple(db.session.scalars(sa.select(Message.body).order_by(Message.id)))
        stages = tuple(db.session.scalars(sa.select(Shipment.state).order_by(Shipment.id)))
        db.session.remove()
        return counts, requests, messages, stages


def visitor(app: Flask, email: str | None):
    """A test client signed in as ``email`` (or a visitor), reading pages in English."""
    client = app.test_client()
    if email:
        login(client, email)
    with client.session_transaction() as session:
        session["locale"] = "en"
    return client


def account_id(app: Flask, email: str) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(Account.id).where(Account.email == email))
        db.session.remove()
        return found


def session_cookie(app: Flask, email: str | None, **values: object) -> str:
    """The demo's signed session cookie of ``email`` (or of a visitor), with ``values``."""
    data = {"account_id": account_id(app, email)} if email else {}
    data.update(values)
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps(data)


class CountingStream(io.RawIOBase):
    """A request body of ``size`` bytes that remembers how much was read.

    Seeking (the test client measures the body that way) reads nothing.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: offset, 1: self.position + offset, 2: self.size + offset}[whence]
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        wanted = max(0, min(len(buffer), self.size - self.position))
        buffer[:wanted] = b"x" * wanted
        self.position += wanted
        self.read_bytes += wanted
        return wanted


def show(config, lines: list[str]) -> None:
    """Print ``lines`` on the terminal, even while pytest captures the output."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        for line in lines:
            reporter.write_line(line)


# --------------------------------------------------------------------------- #
# Real HTTP
# --------------------------------------------------------------------------- #


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """``app`` behind werkzeug's threaded server on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="served-app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        return urlsplit(self.headers.get("location", "")).path


class Browser:
    """One visitor over real HTTP: keeps its cookies, never follows redirects."""

    def __init__(self, base_url: str, cookies: dict[str, str] | None = None, timeout: float = 120) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies = dict(cookies or {})
        self.timeout = timeout

    def request(self, method: str, path: str, *, form: dict | list | None = None,
                headers: dict[str, str] | None = None, body: bytes | None = None) -> HttpAnswer:
        sent = dict(headers or {})
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or ():
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return HttpAnswer(response.status, {k.lower(): v for k, v in response.getheaders()}, text)
        finally:
            connection.close()

    def get(self, path: str, **kwargs) -> HttpAnswer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict | list, **kwargs) -> HttpAnswer:
        return self.request("POST", path, form=form, **kwargs)


def browser_as(app: Flask, base_url: str, email: str | None, **session: object) -> Browser:
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    return Browser(base_url, {name: session_cookie(app, email, **session)})
