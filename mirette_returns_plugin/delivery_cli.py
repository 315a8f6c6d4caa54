"""``flask mirette-returns send-emails``: deliver the outbox."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable
from datetime import datetime, timezone
from types import FrameType

import click
import sqlalchemy as sa
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
        try:
            report = _send_due(batch, show_bar=True)
        except delivery.MailSetupError as error:
            raise click.ClickException(str(error)) from None
        _summary(report)
        if report.retrying or report.failed:
            click.echo(f"Last error: {report.errors[-1]}", err=True)
        return
    stopping = _stop_on_sigterm()
    click.echo(f"Sending emails every {interval:g} s; Ctrl+C or SIGTERM stops after the current email.")
    total = delivery.Report()
    outage = Outage()
    try:
        while not stopping():
            try:
                report = _send_due(batch, show_bar=False, stopping=stopping)
                waiting = delivery.count_due() if report.handled else 0
            except delivery.NoSenderError as error:
                # Settings are read at start: only a restart with the setting fixes it.
                raise click.ClickException(str(error)) from None
            except delivery.MailSetupError as error:
                # The server may come back or be fixed on its side: wait for it.
                total.add(error.report)
                _sleep(outage.begin("smtp", str(error), interval), stopping)
                continue
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
                delivery.forget_connections()
                if outage.kind is None and not outage.retried_at_once:
                    # A connection the database dropped while the worker was
                    # idle: a fresh one may work at once.
                    outage.retried_at_once = True
                    continue
                line = f"Database unreachable ({_first_line(error.orig or error)}); the emails stay queued, retrying."
                _sleep(outage.begin("database", line, interval), stopping)
                continue
            outage.end()
            if report.handled:
                total.add(report)
                click.echo(f"{_stamp()} sent {report.sent}, to retry {report.retrying}, failed {report.failed}"
                           f" (so far: sent {total.sent}, failed {total.failed}); {waiting} waiting")
                continue
            _sleep(interval, stopping)
    except KeyboardInterrupt:
        pass
    _summary(total)


#: Longest wait between two tries during an outage, in seconds.
OUTAGE_MOST_WAIT = 60.0


class Outage:
    """An outage of the database or the SMTP server, as the loop lives it.

    One line when it starts and one when it ends, however long it lasts; the
    wait between two tries doubles up to :data:`OUTAGE_MOST_WAIT`.
    """

    def __init__(self) -> None:
        self.kind: str | None = None
        self.tries = 0
        self.retried_at_once = False

    def begin(self, kind: str, line: str, interval: float) -> float:
        """Note a failed try; returns the seconds to wait before the next one."""
        if self.kind != kind:
            self.end()  # the other one is over
            self.kind, self.tries = kind, 0
            click.echo(f"{_stamp()} {line}", err=True)
        self.tries += 1
        return min(interval * 2.0 ** (self.tries - 1), max(OUTAGE_MOST_WAIT, interval))

    def end(self) -> None:
        self.retried_at_once = False
        if self.kind is not None:
            what = "database" if self.kind == "database" else "SMTP server"
            click.echo(f"{_stamp()} The {what} answers again; sending the queued emails.", err=True)
            self.kind, self.tries = None, 0


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _send_due(batch: int, *, show_bar: bool, stopping: Callable[[], bool] = lambda: False) -> delivery.Report:
    """Every email due now, in batches; a progress bar when asked."""
    total = delivery.count_due()
    report = delivery.Report()
    if not total:
        return report
    delivery.find_sender()
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


def _stop_on_sigterm() -> Callable[[], bool]:
    """A function telling whether SIGTERM arrived (a deploy stops the worker)."""
    stop = {"asked": False}

    def ask(signum: int, frame: FrameType | None) -> None:
        stop["asked"] = True

    try:
        signal.signal(signal.SIGTERM, ask)
    except ValueError:  # not the main thread (a test calling the command)
        pass
    return lambda: stop["asked"]


def _sleep(seconds: float, stopping: Callable[[], bool]) -> None:
    end = time.monotonic() + seconds
    while not stopping() and time.monotonic() < end:
        time.sleep(min(0.2, end - time.monotonic()))
