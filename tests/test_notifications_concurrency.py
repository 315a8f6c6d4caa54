"""Two workers at once on PostgreSQL or MariaDB: no email is sent twice."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import delivery, workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import OutboxEmail, OutboxState
from mirette_returns_plugin.workflow import ReturnForm
from tests.conftest import database_kind
from tests.shop import CAMILLE, LUNE, line_ref, order_ref, user

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.skipif(
        database_kind() == "sqlite",
        reason="several workers at once need PostgreSQL or MariaDB (SKIP LOCKED); on SQLite one worker runs",
    ),
]

WORKERS = 3
MESSAGES = 40


def test_workers_running_at_once_never_send_an_email_twice(mail_app, smtp):
    with mail_app.test_request_context():
        request = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="changed_mind"))
        for number in range(MESSAGES):
            author = CAMILLE if number % 2 else LUNE
            workflow.post_message(user(author), request.id, f"Message {number}")
        queued = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail))
        db.session.remove()
    assert queued == MESSAGES + 1

    start = threading.Barrier(WORKERS)
    reports: list[delivery.Report] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            with mail_app.app_context():
                start.wait()
                reports.append(delivery.deliver(batch=3))
        except BaseException as error:  # surfaced below
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)
    assert sum(report.sent for report in reports) == queued
    with mail_app.app_context():
        rows = db.session.scalars(sa.select(OutboxEmail)).all()
        assert all(row.state == OutboxState.SENT and row.attempts == 1 for row in rows)
        expected = Counter({row.message_id: 1 for row in rows})
    assert Counter(email.message_id for email in smtp.arrived) == expected
