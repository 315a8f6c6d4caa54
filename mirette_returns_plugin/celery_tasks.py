"""The plugin's background work as tasks of the shop's own Celery app.

Installed with the ``celery`` extra (``pip install 'mirette-returns[celery]'``).
For shops that already run Celery workers and beat; the
``flask mirette-returns send-emails`` worker stays the default and needs none
of this. Both may even run side by side: the outbox is claimed row by row
(``SKIP LOCKED`` on PostgreSQL and MariaDB), so no email is sent twice.

::

    from celery import Celery
    from mirette_returns_plugin.celery_tasks import beat_schedule, register_tasks

    celery = Celery("myshop", broker="redis://redis:6379/0")
    tasks = register_tasks(celery, flask_app)
    celery.conf.beat_schedule.update(beat_schedule())

The plugin has no time-based rules yet (deadlines are checked when someone
acts), so draining the outbox is the only periodic work; new periodic work
will be added to :func:`beat_schedule` under its own entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask

from . import delivery

logger = logging.getLogger(__name__)

#: The task's name, the same in every shop (beat entries and routes use it).
SEND_EMAILS = "mirette_returns.send_emails"

#: Seconds between two runs of the outbox task in :func:`beat_schedule`.
DEFAULT_EVERY = 30.0

#: Most emails one task run sends, so a run never holds a worker for long;
#: what is left waits for the next run.
DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class Tasks:
    """The tasks :func:`register_tasks` added to the shop's Celery app."""

    send_emails: Any


def register_tasks(celery: Any, app: Flask) -> Tasks:
    """Add the plugin's tasks to ``celery``, each run in ``app``'s context.

    ``app`` is the shop's Flask app with the plugin mounted (the worker
    process builds it, as it does for the shop's own tasks).
    """

    @celery.task(name=SEND_EMAILS, ignore_result=False, acks_late=False)
    def send_emails(batch: int = 50, limit: int = DEFAULT_LIMIT) -> dict[str, int]:
        """Send the emails due in the outbox, as ``send-emails`` does once.

        Returns the counts (sent, to retry, failed for good). Retries of a
        failed email are the outbox's own (its back-off), not Celery's: a task
        that fails half-way loses nothing, the next run takes the rest.
        """
        with app.app_context():
            try:
                report = delivery.deliver(batch=batch, limit=limit)
            except delivery.MailSetupError as error:
                # A setting or the SMTP server is wrong: the emails stay queued,
                # no attempt counted; the next run sends them once it is fixed.
                logger.warning("mirette-returns: %s", error)
                report = error.report
        return {"sent": report.sent, "retrying": report.retrying, "failed": report.failed}

    return Tasks(send_emails=send_emails)


def beat_schedule(*, every: float = DEFAULT_EVERY, queue: str | None = None) -> dict[str, dict[str, Any]]:
    """Entries for ``celery.conf.beat_schedule``: the outbox drained every
    ``every`` seconds (on ``queue`` when the shop routes its tasks).

    Each run expires after one period, so a beat that ran while no worker was
    up does not leave a pile of runs behind it.
    """
    options: dict[str, Any] = {"expires": every}
    if queue:
        options["queue"] = queue
    return {
        "mirette-returns-send-emails": {"task": SEND_EMAILS, "schedule": every, "options": options},
    }
