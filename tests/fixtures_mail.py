"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, reached through Flask-Mail.

Fixtures:

- ``smtp``: the running server, emptied before the test (``smtp.arrived``,
  ``smtp.to(address)``, ``smtp.stop()``/``smtp.start()`` for an outage,
  ``smtp.hold(after=n)`` to keep the next client waiting mid-delivery).
- ``mail_app``: the test's ``app``, its Flask-Mail pointed at that server.
"""

from __future__ import annotations

import email
import socket
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from flask import Flask
from flask_mail import Mail

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ArrivedEmail:
    """One email as the SMTP server received it, parsed."""

    envelope_from: str
    envelope_to: tuple[str, ...]
    message: EmailMessage

    def header(self, name: str) -> str | None:
        value = self.message[name]
        return None if value is None else str(value)

    @property
    def subject(self) -> str:
        return self.header("Subject") or ""

    @property
    def message_id(self) -> str:
        return self.header("Message-ID") or ""

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


class Collector:
    """aiosmtpd handler keeping every message, optionally refusing addresses."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.arrived: list[ArrivedEmail] = []
        self.refused: set[str] = set()
        self.hold_after: int | None = None
        self.released = threading.Event()
        #: Numbers (1, 2, ...) of the messages during which the server hangs up.
        self.hang_up_on: set[int] = set()
        self.received = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        if self.received in self.hang_up_on:
            # As a crashing server would: the message is lost, the client
            # never hears back.
            server.transport.close()
            return "421 Closing"
        arrived = ArrivedEmail(
            envelope_from=envelope.mail_from,
            envelope_to=tuple(envelope.rcpt_tos),
            message=email.message_from_bytes(envelope.content, policy=default_policy),
        )
        with self.changed:
            self.arrived.append(arrived)
            count = len(self.arrived)
            self.changed.notify_all()
        if self.hold_after is not None and count > self.hold_after:
            # The message is in; the client waits for the answer until released.
            import asyncio

            await asyncio.get_running_loop().run_in_executor(None, self.released.wait)
        return "250 Message accepted for delivery"


class SMTPServer:
    """An aiosmtpd server on a fixed free port, that can go down and come back.

    With ``login=(user, password)`` it accepts mail only after that login.
    """

    def __init__(self, login: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.handler = Collector()
        self.login = login
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            options: dict[str, object] = {}
            if self.login is not None:
                options = {"auth_required": True, "auth_require_tls": False, "authenticator": self._authenticate}
            kind = _LoginController if self.login is not None else Controller
            controller = kind(self.handler, hostname=HOST, port=self.port, **options)
            controller.start()
            self._controller = controller

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert self.login is not None
        user, password = self.login
        given = (auth_data.login.decode(), auth_data.password.decode()) if auth_data else None
        return AuthResult(success=given == (user, password), handled=False)

    def stop(self) -> None:
        self.let_go()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self.handler.changed:
            self.handler.arrived.clear()
        self.handler.refused.clear()
        self.handler.hang_up_on.clear()
        self.handler.received = 0
        self.let_go()

    def refuse(self, address: str) -> None:
        """Answer ``550`` to this recipient."""
        self.handler.refused.add(address.lower())

    def hang_up(self, *, on: int) -> None:
        """Close the connection while receiving the ``on``-th message from now."""
        self.handler.hang_up_on.add(self.handler.received + on)

    def hold(self, *, after: int) -> None:
        """Keep the client of every message after the first ``after`` waiting."""
        self.handler.released.clear()
        self.handler.hold_after = after

    def let_go(self) -> None:
        self.handler.hold_after = None
        self.handler.released.set()

    @property
    def arrived(self) -> list[ArrivedEmail]:
        with self.handler.changed:
            return list(self.handler.arrived)

    def to(self, address: str) -> list[ArrivedEmail]:
        return [m for m in self.arrived if address in m.envelope_to]

    def wait_for(self, count: int, timeout: float = 60.0) -> bool:
        """Wait until ``count`` messages arrived (a safety limit, not a measure)."""
        with self.handler.changed:
            return self.handler.changed.wait_for(lambda: len(self.handler.arrived) >= count, timeout)

    def flask_config(self) -> dict[str, object]:
        return {
            "MAIL_SERVER": HOST,
            "MAIL_PORT": self.port,
            "MAIL_USE_TLS": False,
            "MAIL_USE_SSL": False,
            "MAIL_SUPPRESS_SEND": False,
            "MAIL_DEFAULT_SENDER": "Mirette <no-reply@mirette.example>",
        }


class _LoginController(Controller):
    def factory(self):
        # aiosmtpd warns of a login over plain text: on 127.0.0.1, in a test, it is meant.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return super().factory()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: SMTPServer) -> Iterator[SMTPServer]:
    """The SMTP server, running and empty."""
    smtp_server.start()
    smtp_server.clear()
    yield smtp_server
    smtp_server.let_go()
    smtp_server.start()


@pytest.fixture
def mail_app(app: Flask, smtp: SMTPServer) -> Flask:
    """The test's app, sending through the ``smtp`` server with Flask-Mail."""
    app.config.update(smtp.flask_config())
    Mail().init_app(app)  # Flask-Mail reads its settings when set up
    return app


# --------------------------------------------------------------------------- #
# Reading the outbox
# --------------------------------------------------------------------------- #


def queued_emails() -> list[tuple[str, str, str]]:
    """``(action, recipient role, address)`` of every outbox row, oldest first.

    The action is the history row's (``accept``...) or ``message``; the role
    is ``buyer``, ``artist`` or ``support``.
    """
    import sqlalchemy as sa

    from mirette_returns_plugin.demo.models import db
    from mirette_returns_plugin.models import HistoryEntry, OutboxEmail

    actions = dict(db.session.execute(sa.select(HistoryEntry.id, HistoryEntry.action)).all())
    found = []
    for row in db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)):
        event, role = row.event_key.split(":", 1)
        kind, number = event.rsplit("-", 1)
        action = actions[int(number)] if kind == "history" else "message"
        found.append((action, role.split("-", 1)[0], row.recipient))
    return found
