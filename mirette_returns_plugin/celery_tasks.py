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

Two pieces of work are periodic, each under its own beat entry: draining the
outbox, and the time-based rules (reminders and automatic escalation, the
``flask mirette-returns tick`` command), which queue their emails in the
outbox for the first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask

from . import delivery, reminders

if TYPE_CHECKING:
    from celery import Celery

logger = logging.getLogger(__name__)

#: The task's name, the same in every shop (beat entries and routes use it).
SEND_EMAILS = "mirette_returns.send_emails"

#: The time-based rules' task (reminders, automatic escalation).
TICK = "mirette_returns.tick"

#: Seconds between two runs of the outbox task in :func:`beat_schedule`.
DEFAULT_EVERY = 30.0

#: Seconds between two runs of the tick: reminders are counted in days, so
#: a few minutes late is on time; running more often is harmless.
DEFAULT_TICK_EVERY = 300.0

#: Most emails one task run sends, so a run never holds a worker for long;
#: what is left waits for the next run.
DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class Tasks:
    """The tasks :func:`register_tasks` added to the shop's Celery app."""

    send_emails: Any
    tick: Any = None


def register_tasks(celery: Celery, app: Flask) -> Tasks:
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

    @celery.task(name=TICK, ignore_result=False, acks_late=False)
    def tick() -> dict[str, int]:
        """Send the reminders and escalations due, as ``flask mirette-returns tick`` does.

        Safe beside the command and other workers: each one is claimed once.
        """
        with app.app_context():
            report = reminders.tick()
        return {"reminded": report.reminded, "escalated": report.escalated}

    return Tasks(send_emails=send_emails, tick=tick)


def beat_schedule(*, every: float = DEFAULT_EVERY, queue: str | None = None,
                  tick_every: float = DEFAULT_TICK_EVERY) -> dict[str, dict[str, Any]]:
    """Entries for ``celery.conf.beat_schedule``: the outbox drained every
    ``every`` seconds, and the tick run every ``tick_every`` seconds (on
    ``queue`` when the shop routes its tasks).

    Each run expires after one period, so a beat that ran while no worker was
    up does not leave a pile of runs behind it.
    """
    def options(period: float) -> dict[str, Any]:
        found: dict[str, Any] = {"expires": period}
        if queue:
            found["queue"] = queue
        return found

    return {
        "mirette-returns-send-emails": {"task": SEND_EMAILS, "schedule": every, "options": options(every)},
        "mirette-returns-tick": {"task": TICK, "schedule": tick_every, "options": options(tick_every)},
    }
