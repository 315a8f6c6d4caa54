"""The outbox drained by a real Celery worker, on this machine's Redis.

The worker is a separate process (``celery -A tests.celery_worker_app worker``)
on a Redis database of its own (``MIRETTE_TEST_CELERY_REDIS``, by default db 5)
and a queue named for the test, so nothing else on that server is touched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from mirette_returns_plugin.celery_tasks import SEND_EMAILS, TICK, beat_schedule
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import HistoryEntry, OutboxState, Request, utcnow
from tests.celery_worker_app import make_celery
from tests.test_notifications_smtp import busy_day, outbox, submit

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("MIRETTE_TEST_CELERY_REDIS", "redis://127.0.0.1:6379/5")

pytestmark = pytest.mark.usefixtures("mail_app", "ctx")


def wait_until(condition, *, seconds: float) -> bool:
    """Whether ``condition()`` came true within ``seconds`` (looked at every 0.2 s)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of the test's own; its keys leave the Redis database with it."""
    import redis

    name = f"mirette-test-{uuid.uuid4().hex[:12]}"
    yield name
    with redis.Redis.from_url(BROKER) as server:
        left = [key for pattern in (name, f"*.{name}", f"{name}\x06*") for key in server.keys(pattern)]
        if left:
            server.delete(*left)


@pytest.fixture
def start_worker(app, smtp, queue: str, tmp_path: Path) -> Iterator:
    """``start_worker(beat_every=None)``: a Celery worker process on the test's
    queue (with its beat when ``beat_every`` is given), stopped after the test."""
    started: list[subprocess.Popen] = []

    def start(beat_every: float | None = None) -> subprocess.Popen:
        config = {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "DEMO_SEED": False,
            "SERVER_NAME": "shop.test",
            # A worker runs outside debug and testing: its links need the shop's address.
            "MIRETTE_RETURNS_EXTERNAL_BASE_URL": "http://shop.test",
            "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
            **smtp.flask_config(),
        }
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MIRETTE_TEST_APP_CONFIG": json.dumps(config),
               "MIRETTE_TEST_CELERY_BROKER": BROKER, "MIRETTE_TEST_CELERY_QUEUE": queue,
               "MIRETTE_TEST_CELERY_EVERY": str(beat_every or 30)}
        command = [sys.executable, "-m", "celery", "-A", "tests.celery_worker_app", "worker",
                   "-Q", queue, "-n", f"{queue}@127.0.0.1", "--pool", "solo", "--loglevel", "warning",
                   "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if beat_every is not None:
            command += ["--beat", "--schedule", str(tmp_path / "beat-schedule")]
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
        try:
            worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.communicate()


@pytest.fixture
def shop_celery(queue: str) -> Iterator:
    """The shop's side of Celery: sends tasks and reads their results."""
    celery = make_celery(BROKER, queue, 30.0)
    yield celery
    # Close the result backend's Redis connections too (celery.close() leaves
    # them to the garbage collector, which warns in whichever test runs then).
    backend = celery.backend
    consumer = getattr(backend, "result_consumer", None)
    if consumer is not None and getattr(consumer, "_pubsub", None) is not None:
        consumer.stop()
    backend.client.connection_pool.disconnect()
    celery.close()


def test_a_worker_sends_every_email_of_the_outbox_once(smtp, start_worker, shop_celery, queue):
    queued = busy_day()
    assert queued == 6
    start_worker()

    result = shop_celery.send_task(SEND_EMAILS, queue=queue).get(timeout=90)

    assert result == {"sent": 6, "retrying": 0, "failed": 0}
    rows = outbox()
    assert all(row.state == OutboxState.SENT for row in rows)
    assert sorted(email.message_id for email in smtp.arrived) == sorted(row.message_id for row in rows)
    assert sorted(email.envelope_to for email in smtp.arrived) == sorted((row.recipient,) for row in rows)
    # A second run finds nothing left: nothing is sent twice.
    assert shop_celery.send_task(SEND_EMAILS, queue=queue).get(timeout=90) == {
        "sent": 0, "retrying": 0, "failed": 0}
    assert len(smtp.arrived) == 6


def test_the_beat_schedule_drains_the_outbox_unasked(smtp, start_worker):
    worker = start_worker(beat_every=1.0)
    queued = busy_day()

    all_sent = wait_until(lambda: all(row.state == OutboxState.SENT for row in outbox()), seconds=90)

    assert all_sent, f"{len(smtp.arrived)} of {queued} emails arrived; worker alive: {worker.poll() is None}"
    assert len(smtp.arrived) == queued
    assert len({email.message_id for email in smtp.arrived}) == queued


def test_emails_stay_queued_while_the_smtp_server_is_down(smtp, start_worker, shop_celery, queue):
    smtp.stop()
    queued = busy_day()
    start_worker()
    try:
        result = shop_celery.send_task(SEND_EMAILS, queue=queue).get(timeout=90)
    finally:
        smtp.start()
    # An SMTP server that cannot be reached is never held against an email.
    assert result == {"sent": 0, "retrying": 0, "failed": 0}
    rows = outbox()
    assert len(rows) == queued and all(row.state == OutboxState.PENDING and row.attempts == 0 for row in rows)


def test_the_beat_schedule_names_the_task_and_its_queue():
    entries = beat_schedule(every=15, queue="shop-mail", tick_every=120)
    assert entries == {
        "mirette-returns-send-emails": {"task": SEND_EMAILS, "schedule": 15,
                                        "options": {"expires": 15, "queue": "shop-mail"}},
        "mirette-returns-tick": {"task": TICK, "schedule": 120, "options": {"expires": 120, "queue": "shop-mail"}},
    }


def test_the_tick_task_reminds_and_calls_support_in_once(smtp, start_worker, shop_celery, queue):
    request_id = submit().id
    # Sent a month ago and never answered: both the reminder and the escalation are due.
    month_ago = utcnow() - timedelta(days=30)
    db.session.execute(sa.update(Request).where(Request.id == request_id)
                       .values(created_at=month_ago, last_activity_at=month_ago))
    db.session.execute(sa.update(HistoryEntry).where(HistoryEntry.request_id == request_id)
                       .values(created_at=month_ago))
    db.session.commit()
    start_worker()

    assert shop_celery.send_task(TICK, queue=queue).get(timeout=90) == {"reminded": 1, "escalated": 1}
    assert shop_celery.send_task(TICK, queue=queue).get(timeout=90) == {"reminded": 0, "escalated": 0}
    db.session.remove()
    steps = db.session.scalars(sa.select(HistoryEntry.action).where(
        HistoryEntry.request_id == request_id, HistoryEntry.actor_role == "system").order_by(HistoryEntry.id)).all()
    assert steps == ["remind_artist", "escalate"]
    assert db.session.get(Request, request_id).escalated
