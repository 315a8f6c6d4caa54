"""A wrong mail setting never loses an email, against a real SMTP server (aiosmtpd).

No sender, no server on the port, a refused login, TLS asked of a server that
has none: the worker sends nothing, says in one line what to set, exits
non-zero, and counts no attempt against the emails; once the setting is
fixed, every one of them is delivered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_mail import Mail

from mirette_returns_plugin import ConfigurationError, workflow
from mirette_returns_plugin.demo import create_app
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import OutboxEmail, OutboxState
from tests.fixtures_mail import SMTPServer, free_port
from tests.shop import CAMILLE, LUNE, user
from tests.test_notifications_smtp import SENDER, submit

pytestmark = pytest.mark.usefixtures("mail_app", "ctx")


def queue_three() -> None:
    request = submit()
    workflow.perform(user(LUNE), request.id, "accept", note="Send it back.")
    workflow.post_message(user(LUNE), request.id, "Any news?")


def outbox() -> list[OutboxEmail]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)))


def set_mail(app: Flask, **settings: object) -> None:
    """Change Flask-Mail's settings, as a shop would in its config before a restart."""
    app.config.update(settings)
    Mail().init_app(app)


def send(app: Flask, *options: str):
    return app.test_cli_runner().invoke(args=["mirette-returns", "send-emails", *options])


def assert_all_queued_untouched(reason: str | None) -> None:
    """Every email still queued, due, with no attempt counted; ``reason`` in ``last_error``
    when the emails were taken before the problem showed (``None``: never taken)."""
    rows = outbox()
    assert len(rows) == 3
    for row in rows:
        assert row.state == OutboxState.PENDING and row.attempts == 0, (row.state, row.attempts)
        assert row.last_error is None if reason is None else reason in row.last_error


def assert_one_line(output: str, *words: str) -> None:
    """One line of error, beside the progress bar's label at most."""
    lines = [line for line in output.splitlines() if line.strip() and line != "Sending emails"]
    assert len(lines) == 1, output
    for word in words:
        assert word in lines[0], lines[0]


def test_no_sender_keeps_every_email_then_sends_them_once_it_is_set(app, smtp):
    set_mail(app, MAIL_DEFAULT_SENDER=None)
    queue_three()

    result = send(app)

    assert result.exit_code != 0
    assert_one_line(result.output, "Set MIRETTE_RETURNS_MAIL_SENDER or MAIL_DEFAULT_SENDER", "stay queued")
    assert_all_queued_untouched(None)
    assert smtp.arrived == []
    # A worker in a loop stops too: its settings were read when it started.
    looping = send(app, "--loop", "--interval", "0.1")
    assert looping.exit_code != 0 and "MAIL_DEFAULT_SENDER" in looping.output
    assert_all_queued_untouched(None)

    set_mail(app, MAIL_DEFAULT_SENDER=SENDER)
    result = send(app)

    assert result.exit_code == 0, result.output
    assert "Sent 3 email(s); 0 will be retried; 0 failed for good." in result.output
    assert sorted(e.message_id for e in smtp.arrived) == sorted(row.message_id for row in outbox())
    assert {e.header("From") for e in smtp.arrived} == {SENDER}
    assert all(row.state == OutboxState.SENT and row.attempts == 1 for row in outbox())


def test_nothing_listening_on_the_port_keeps_every_email(app, smtp):
    set_mail(app, MAIL_PORT=free_port())
    queue_three()

    result = send(app)

    assert result.exit_code != 0
    assert_one_line(result.output, "ConnectionRefusedError", "check MAIL_SERVER and MAIL_PORT")
    assert_all_queued_untouched("ConnectionRefusedError")

    set_mail(app, MAIL_PORT=smtp.port)
    assert send(app).exit_code == 0
    assert len(smtp.arrived) == 3 and all(row.state == OutboxState.SENT for row in outbox())


def test_tls_asked_of_a_server_without_it_keeps_every_email(app, smtp):
    set_mail(app, MAIL_USE_TLS=True)
    queue_three()

    result = send(app)

    assert result.exit_code != 0
    assert_one_line(result.output, "STARTTLS", "MAIL_USE_TLS")
    assert_all_queued_untouched("STARTTLS")

    set_mail(app, MAIL_USE_TLS=False)
    assert send(app).exit_code == 0
    assert len(smtp.arrived) == 3


@pytest.fixture
def guarded_smtp() -> Iterator[SMTPServer]:
    """An SMTP server that takes mail only after the login ``shop`` / ``s3cret``."""
    server = SMTPServer(login=("shop", "s3cret"))
    server.start()
    yield server
    server.stop()


def test_a_refused_login_keeps_every_email(app, guarded_smtp):
    set_mail(app, MAIL_PORT=guarded_smtp.port, MAIL_USERNAME="shop", MAIL_PASSWORD="wrong")
    queue_three()

    result = send(app)

    assert result.exit_code != 0
    assert_one_line(result.output, "SMTPAuthenticationError", "check MAIL_USERNAME and MAIL_PASSWORD")
    assert_all_queued_untouched("SMTPAuthenticationError")
    assert guarded_smtp.arrived == []

    set_mail(app, MAIL_PASSWORD="s3cret")
    result = send(app)
    assert result.exit_code == 0, result.output
    assert sorted(e.envelope_to for e in guarded_smtp.arrived) == [(CAMILLE,), (CAMILLE,), (LUNE,)]
    assert all(row.state == OutboxState.SENT for row in outbox())


def test_no_login_where_the_server_asks_for_one_keeps_every_email(app, guarded_smtp):
    set_mail(app, MAIL_PORT=guarded_smtp.port)
    queue_three()

    result = send(app)

    assert result.exit_code != 0
    assert_one_line(result.output, "SMTPSenderRefused", "MAIL_DEFAULT_SENDER")
    assert_all_queued_untouched("SMTPSenderRefused")


# --------------------------------------------------------------------------- #
# Mounting
# --------------------------------------------------------------------------- #


def mount(database_url: str, **config: object) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "DEMO_SEED": False, "SECRET_KEY": "k" * 32,
                       "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
                       **config})


def test_mounting_in_production_without_a_sender_is_refused(database_url):
    with pytest.raises(ConfigurationError, match="MIRETTE_RETURNS_MAIL_SENDER or MAIL_DEFAULT_SENDER"):
        mount(database_url, MAIL_DEFAULT_SENDER=None)


def test_mounting_in_debug_without_a_sender_warns(database_url, caplog):
    caplog.set_level(logging.WARNING, logger="mirette_returns_plugin")
    app = mount(database_url, MAIL_DEFAULT_SENDER=None, DEBUG=True)
    assert "mirette_returns" in app.extensions
    assert "nothing says who emails are from" in caplog.text and "MAIL_DEFAULT_SENDER" in caplog.text
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_looping_worker_waits_for_the_smtp_server_and_then_sends_everything(app, smtp, database_url):
    from tests.test_notifications_outage import Worker, wait_until

    smtp.stop()
    queue_three()
    worker = Worker(database_url, smtp)
    try:
        assert worker.wait_for_error("No email sent through the SMTP server"), worker.errors
        time.sleep(1)  # a few more tries while it is down
        # Still queued (each try takes the emails and gives them back, so the
        # attempt counts are checked once they are sent).
        assert [row.state for row in outbox()] == [OutboxState.PENDING] * 3
        smtp.start()
        assert smtp.wait_for(3), worker.errors
        assert wait_until(lambda: all(row.state == OutboxState.SENT for row in outbox()))
    finally:
        code, output = worker.stop()
    assert code == 0, (output, worker.errors)
    assert len([line for line in worker.errors if "No email sent" in line]) == 1, worker.errors
    assert len([line for line in worker.errors if "SMTP server answers again" in line]) == 1, worker.errors
    assert all(row.attempts == 1 for row in outbox())
    assert sorted(e.message_id for e in smtp.arrived) == sorted(row.message_id for row in outbox())
