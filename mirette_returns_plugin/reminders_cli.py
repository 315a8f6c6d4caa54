"""``flask mirette-returns tick``: send the reminders and escalations due."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from . import reminders


@click.command("tick")
@with_appcontext
def tick() -> None:
    """Remind whoever has not answered a request, and ask support to step in
    when the artist stays silent (see docs/notifications.md).

    Run it from cron or any scheduler, as often as you like and on several
    machines at once: each reminder is sent once. The emails go through the
    outbox, so run ``send-emails`` (or the on-commit sender) too.
    """
    report = reminders.tick()
    click.echo(f"Sent {report.reminded} reminder(s); asked support to step in on {report.escalated} request(s).")
