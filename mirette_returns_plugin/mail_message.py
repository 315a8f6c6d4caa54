"""An outbox row made into the email that leaves: written from its facts, at delivery.

The worker writes each email when it sends it, in its reader's language,
from the facts its row keeps (:mod:`.email_facts`), through the same wording
and templates as ever (:func:`.emails.render`): a template, an override or a
translation fixed while an email waited reaches it. A row queued before the
facts were kept holds its written email, which is sent as it is.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_mail import Message as MailMessage

from . import email_facts, emails
from .emails import RenderedEmail
from .mail_settings import SENDER_SETTINGS, sender
from .models import OutboxEmail
from .smtp_connection import NoSenderError
from .state import current_state

#: Headers every email carries besides the threading ones.
AUTO_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}

#: Language of a row that names none (queued by an older version).
FALLBACK_LOCALE = "en"


class EmailNotWritten(Exception):
    """An email could not be written from its facts (a broken template, a facts
    layout this version does not read). It stays queued with this error, and
    is tried again as a failed delivery is; the other emails go on."""


def find_sender() -> Any:
    """Who the emails are from; :class:`NoSenderError` when nothing says."""
    found = sender(current_app, current_state().config)
    if not found:
        raise NoSenderError(f"No email sent: nothing says who they are from. Set {SENDER_SETTINGS} "
                            "(e.g. 'My Shop <orders@myshop.example>'); the emails stay queued.")
    return found


def written(row: OutboxEmail) -> RenderedEmail:
    """The subject and bodies of ``row``, in its reader's language.

    Written from the facts now; a row without facts has its email already
    written. :class:`EmailNotWritten` says why it could not be.
    """
    if not row.facts:
        return RenderedEmail(subject=row.subject or "", text=row.body_text or "", html=row.body_html or "")
    try:
        event, recipient = email_facts.restore(row.facts, address=row.recipient,
                                               locale=row.locale or FALLBACK_LOCALE)
        return emails.render(event, recipient)
    except Exception as error:
        raise EmailNotWritten(f"the email could not be written from its facts ({type(error).__name__}: "
                              f"{error}); fix the template or the translation, it is tried again") from error


def build_message(row: OutboxEmail) -> Any:
    """The Flask-Mail message of an outbox row, with its stable Message-ID."""
    email = written(row)
    message = MailMessage(
        subject=email.subject,
        recipients=[row.recipient],
        body=email.text,
        html=email.html,
        sender=find_sender(),
        extra_headers={"In-Reply-To": row.thread_id, "References": row.thread_id, **AUTO_HEADERS},
    )
    message.msgId = row.message_id
    return message


class WrittenEmail:
    """An outbox row with its email written now, as it would leave: what a
    mailbox page or a check shows. Every other attribute is the row's."""

    def __init__(self, row: OutboxEmail) -> None:
        self.row = row
        email = written(row)
        self.subject, self.body_text, self.body_html = email.subject, email.text, email.html

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)
