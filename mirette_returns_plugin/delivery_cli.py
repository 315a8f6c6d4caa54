"""``flask mirette-returns send-emails``: deliver the outbox."""

from __future__ import annotations

import contextlib
import signal
import time
from datetime import datetime, timezone

import click
from flask.cli import with_appcontext

from . import delivery


@click.command("send-emails")
@with_appcontext
@click.option("--loop", is_flag=True, help="Keep running: look for new emails every --interval seconds.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="Seconds between two looks at the outbox, with --loop.")
@click.option("--batch", type=click.IntRange(1, 1000), default=50, show_default=True,
              help="Emails claimed at once (and sent over one SMTP connection).")
@click.option("--retry-failed", is_flag=True,
              help="First put the emails that failed for good back in the queue (after fixing the cause).")
def send_emails(loop: bool, interval: float, batch: int, retry_failed: bool) -> None:
    """Send the emails waiting in the outbox, with retries and back-off.

    Several of these may run at once on PostgreSQL or MariaDB: no email is
    sent twice. On SQLite, run one.
    """
    if retry_failed:
        click.echo(f"{delivery.retry_failed()} failed email(s) queued again.")
    if not loop:
        report = _send_due(batch, show_bar=True)
        _summary(report)
        if report.retrying or report.failed:
            click.echo(f"Last error: {report.errors[-1]}", err=True)
        return
    stopping = _stop_on_sigterm()
    click.echo(f"Sending emails every {interval:g} s; Ctrl+C or SIGTERM stops after the current email.")
    total = delivery.Report()
    try:
        while not stopping():
            report = _send_due(batch, show_bar=False, stopping=stopping)
            if report.handled:
                total.add(report)
                stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
                click.echo(f"{stamp} sent {report.sent}, to retry {report.retrying}, failed {report.failed}"
                           f" (so far: sent {total.sent}, failed {total.failed}); {delivery.count_due()} waiting")
                continue
            _sleep(interval, stopping)
    except KeyboardInterrupt:
        pass
    _summary(total)


def _send_due(batch: int, *, show_bar: bool, stopping=lambda: False) -> delivery.Report:
    """Every email due now, in batches; a progress bar when asked."""
    total = delivery.count_due()
    report = delivery.Report()
    if not total:
        return report
    # Not progressbar(hidden=...): that argument needs click 8.2, and shops run 8.1.
    quiet = contextlib.nullcontext(_NoBar())
    with click.progressbar(length=total, label="Sending emails", show_pos=True) if show_bar else quiet as bar:
        while not stopping():
            done = delivery.deliver(batch=batch, limit=batch, on_row=lambda outcome: bar.update(1))
            report.add(done)
            if not done.handled:
                break
    return report


class _NoBar:
    """Stands in for the progress bar under --loop, whose log lines say enough."""

    def update(self, steps: int) -> None:
        pass


def _summary(report: delivery.Report) -> None:
    click.echo(f"Sent {report.sent} email(s); {report.retrying} will be retried; {report.failed} failed for good.")


def _stop_on_sigterm():
    """A function telling whether SIGTERM arrived (a deploy stops the worker)."""
    stop = {"asked": False}

    def ask(signum, frame):
        stop["asked"] = True

    try:
        signal.signal(signal.SIGTERM, ask)
    except ValueError:  # not the main thread (a test calling the command)
        pass
    return lambda: stop["asked"]


def _sleep(seconds: float, stopping) -> None:
    end = time.monotonic() + seconds
    while not stopping() and time.monotonic() < end:
        time.sleep(min(0.2, end - time.monotonic()))
