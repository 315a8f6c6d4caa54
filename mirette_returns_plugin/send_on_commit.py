"""Sending the emails a change queued as soon as it commits.

When ``MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT`` is set, a background thread of
the web process sends the rows a transaction queued once it commits (never
in the thread of the web request, so a slow or failing SMTP server neither
fails nor slows down a click), and a few due rows besides, so a shop without
a worker still retries what failed earlier.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_mail import Mail
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from .delivery import MailSetupError, deliver
from .state import current_flask_app, current_state

log = logging.getLogger(__name__)

#: Rows a background sender delivers per commit besides the new ones, so that a
#: shop without a worker still retries what failed earlier.
SWEEP_BATCH = 20

#: Seconds an idle background sender thread waits before it stops.
IDLE_SECONDS = 30.0

#: Key in ``Session.info`` of the rows queued in the current transaction.
SESSION_KEY = "mirette_returns_outbox_ids"


def install(app: Flask, settings: dict[str, Any]) -> None:
    """Set up Flask-Mail (unless the shop did) and after-commit sending."""
    if "mail" not in app.extensions:
        Mail(app)
    _listen_for_commits()


def remember_for_commit(session: scoped_session[FlaskSession], ids: Sequence[int], *, delay: float = 0) -> None:
    """Note the rows queued in this transaction, to send them once it commits
    (``delay`` seconds after, for rows held back that long)."""
    if not current_state().config["SEND_EMAILS_ON_COMMIT"]:
        return
    app = current_flask_app()
    waiting = session.info.setdefault(SESSION_KEY, {})
    waiting.setdefault(app, []).append((list(ids), delay))


_listening = False
_listening_lock = threading.Lock()


def _listen_for_commits() -> None:
    global _listening
    with _listening_lock:
        if _listening:
            return
        # On the Session class, so every session (Flask-SQLAlchemy's, or the
        # shop's own) is covered; the hook does nothing for a session that
        # queued no email.
        sa.event.listen(Session, "after_commit", _after_commit)
        sa.event.listen(Session, "after_soft_rollback", _after_rollback)
        _listening = True


def _after_commit(session: Session) -> None:
    waiting = session.info.pop(SESSION_KEY, None)
    if not waiting:
        return
    for app, jobs in waiting.items():
        for ids, delay in jobs:
            try:
                background_sender(app).submit(ids, delay=delay)
            except Exception:  # never fail the change that just committed
                log.exception("mirette-returns: could not start sending emails %s", ids)


def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if not session.in_transaction():
        session.info.pop(SESSION_KEY, None)


class BackgroundSender:
    """One thread per app and process that sends what commits queued."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.jobs: queue.Queue[list[int]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, ids: Sequence[int], *, delay: float = 0) -> None:
        if delay > 0:
            # Held back (messages gathered in one email): sent when due. A
            # process stopped meanwhile leaves them to a worker or a later commit.
            timer = threading.Timer(delay, self.submit, args=(list(ids),))
            timer.daemon = True
            timer.start()
            return
        self.jobs.put(list(ids))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mirette-returns-mail", daemon=True)
                self._thread.start()

    def wait(self) -> None:
        """Block until every submitted job is done (for tests and shutdown)."""
        self.jobs.join()

    def _run(self) -> None:
        while True:
            try:
                ids = self.jobs.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self.jobs.empty():
                        self._thread = None
                        return
                continue
            try:
                with self.app.app_context():
                    deliver(ids=ids)
                    deliver(limit=SWEEP_BATCH)
            except MailSetupError as error:
                log.warning("mirette-returns: %s", error)
            except Exception:
                log.exception("mirette-returns: sending emails after commit failed; they stay in the outbox")
            finally:
                self.jobs.task_done()


_senders: dict[int, BackgroundSender] = {}
_senders_lock = threading.Lock()


def background_sender(app: Flask) -> BackgroundSender:
    """The background sender of ``app`` in this process."""
    with _senders_lock:
        sender = _senders.get(id(app))
        if sender is None or sender.app is not app:
            sender = _senders[id(app)] = BackgroundSender(app)
        return sender


def wait_for_background(app: Flask) -> None:
    """Wait until the emails committed so far were tried (tests, shutdown)."""
    with _senders_lock:
        sender = _senders.get(id(app))
    if sender is not None and sender.app is app:
        sender.wait()
