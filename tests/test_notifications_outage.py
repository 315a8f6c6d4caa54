"""The ``send-emails --loop`` worker lives through a database outage.

The worker runs as a real process and reaches the database through a TCP
proxy the test cuts and restores: every connection it had is closed and new
ones are refused, as when the server restarts, while the shared server goes
on serving the test. Emails queued before and during the outage reach the
SMTP server (aiosmtpd) once it is over, each exactly once, and the worker
says so in one line when the database goes away and one when it is back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.models import OutboxState
from tests.conftest import database_kind
from tests.shop import LUNE, user
from tests.tcp_proxy import TcpProxy
from tests.test_notifications_smtp import ROOT, outbox, submit

pytestmark = [
    pytest.mark.concurrency,  # a server test, run where the races run
    pytest.mark.skipif(database_kind() == "sqlite",
                       reason="a database outage needs a server database reached over TCP; SQLite is a file. "
                              "Run with MIRETTE_TEST_DATABASE=postgresql or mariadb (CI does)."),
    pytest.mark.usefixtures("mail_app", "ctx"),
]


class Worker:
    """``flask mirette-returns send-emails --loop`` in its own process, its output collected."""

    def __init__(self, database_url: str, smtp) -> None:
        config = {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "DEMO_SEED": False,
            "MIRETTE_RETURNS_EXTERNAL_BASE_URL": "http://shop.test",
            "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
            **smtp.flask_config(),
        }
        env = {**os.environ, "MIRETTE_TEST_APP_CONFIG": json.dumps(config), "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "tests.mail_worker_app:create_app", "mirette-returns",
             "send-emails", "--loop", "--interval", "0.2"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        # One reader per pipe, each the pipe's only reader: communicate() would
        # race the stderr reader for the last lines the worker writes.
        self.errors: list[str] = []
        self.output: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(pipe, lines), daemon=True)
                         for pipe, lines in ((self.process.stderr, self.errors), (self.process.stdout, self.output))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(pipe, lines: list[str]) -> None:
        with pipe:
            for line in pipe:
                lines.append(line.rstrip("\n"))

    def wait_for_error(self, words: str, timeout: float = 60.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(words in line for line in self.errors):
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        for reader in self._readers:
            reader.join(timeout=10)
        return code, "\n".join(self.output)


def wait_until(condition, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    url = sa.engine.make_url(database_url)
    default_port = {"postgresql": 5432}.get(url.get_backend_name(), 3306)
    cut = TcpProxy(url.host or "127.0.0.1", url.port or default_port)
    cut.start()
    yield cut
    cut.stop()


def through(proxy: TcpProxy, database_url: str) -> str:
    url = sa.engine.make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


def test_the_worker_waits_out_a_database_outage_and_delivers_everything_once(app, smtp, proxy, database_url):
    request = submit()
    worker = Worker(through(proxy, database_url), smtp)
    try:
        assert smtp.wait_for(1), "the worker sent nothing while the database was up"
        # Cut after the worker marked it sent: cut between the two, the email
        # would be sent again after the claim time (at least once, not exactly once).
        assert wait_until(lambda: [row.state for row in outbox()] == [OutboxState.SENT])

        proxy.cut()  # the database goes away under the idle worker
        # Meanwhile the shop goes on (it reaches the database by another way).
        workflow.perform(user(LUNE), request.id, "accept", note="Send it back.")
        workflow.post_message(user(LUNE), request.id, "Any news?")
        assert worker.wait_for_error("Database unreachable"), worker.errors
        time.sleep(2)  # several tries during the outage
        assert len(smtp.arrived) == 1

        proxy.restore()
        assert smtp.wait_for(3), worker.errors
        assert worker.wait_for_error("answers again"), worker.errors
    finally:
        code, output = worker.stop()

    assert code == 0, (output, worker.errors)
    assert len([line for line in worker.errors if "Database unreachable" in line]) == 1, worker.errors
    assert len([line for line in worker.errors if "answers again" in line]) == 1, worker.errors
    rows = outbox()
    assert len(rows) == 3 and all(row.state == OutboxState.SENT for row in rows)
    assert Counter(e.message_id for e in smtp.arrived) == Counter({row.message_id: 1 for row in rows})
