"""The demo app with the plugin's Celery tasks, for a real worker the tests
start as a separate process::

    celery -A tests.celery_worker_app worker -Q <queue> [-B]

The app's settings come as JSON in ``MIRETTE_TEST_APP_CONFIG``; the broker,
the queue and the beat period in ``MIRETTE_TEST_CELERY_BROKER``,
``MIRETTE_TEST_CELERY_QUEUE`` and ``MIRETTE_TEST_CELERY_EVERY``.
"""

from __future__ import annotations

import json
import os

from celery import Celery

from mirette_returns_plugin.celery_tasks import beat_schedule, register_tasks
from mirette_returns_plugin.demo import create_app


def make_celery(broker: str, queue: str, every: float) -> Celery:
    """The shop's Celery app as a test sees it: on ``broker``, tasks routed to ``queue``."""
    celery = Celery("mirette-test", broker=broker, backend=broker)
    celery.conf.update(
        task_default_queue=queue,
        task_routes={"mirette_returns.*": {"queue": queue}},
        result_expires=600,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    celery.conf.beat_schedule = beat_schedule(every=every, queue=queue)
    return celery


def _from_environment() -> tuple[Celery, object]:
    if "MIRETTE_TEST_APP_CONFIG" not in os.environ:  # imported by the test itself
        return make_celery("memory://", "unused", 30.0), None
    celery = make_celery(os.environ["MIRETTE_TEST_CELERY_BROKER"], os.environ["MIRETTE_TEST_CELERY_QUEUE"],
                         float(os.environ.get("MIRETTE_TEST_CELERY_EVERY", "30")))
    tasks = register_tasks(celery, create_app(json.loads(os.environ["MIRETTE_TEST_APP_CONFIG"])))
    return celery, tasks


app, tasks = _from_environment()
