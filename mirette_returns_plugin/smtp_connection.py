"""The SMTP connection of a delivery run, and what its failures mean.

An error is either the settings' or the server's (:class:`MailSetupError`:
no email can leave, the emails in hand go back untouched) or one email's
(retried with a back-off, or given up when retrying cannot help).
"""

from __future__ import annotations

import smtplib
import ssl
from typing import Any

from flask_mail import BadHeaderError

#: What a configuration error tells the shop to check, by the error's class.
SETUP_HINTS: tuple[tuple[type[BaseException], str], ...] = (
    (smtplib.SMTPAuthenticationError, "the server refused the login: check MAIL_USERNAME and MAIL_PASSWORD"),
    (smtplib.SMTPSenderRefused, "the server refused the sender: check MIRETTE_RETURNS_MAIL_SENDER "
                                "or MAIL_DEFAULT_SENDER"),
    (smtplib.SMTPNotSupportedError, "the server does not speak STARTTLS: check MAIL_USE_TLS, MAIL_USE_SSL "
                                    "and MAIL_PORT"),
    (ssl.SSLError, "TLS failed: check MAIL_USE_TLS, MAIL_USE_SSL and MAIL_PORT"),
)


class MailSetupError(Exception):
    """No email can leave, whichever it is: the settings or the SMTP server are wrong.

    Never a reason to give up on an email: the emails in hand go back to the
    queue as they were (no attempt counted), with the reason in ``last_error``.
    ``str(error)`` is one line saying what to set. ``report`` holds what was
    sent before it happened.
    """

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        #: The delivery run's :class:`~.delivery.Report` up to the error.
        self.report = report


class NoSenderError(MailSetupError):
    """Nothing says who the emails are from: only a change of settings fixes it."""


def open_connection(mail: Any) -> Any:
    """An open Flask-Mail connection, or the error that prevented it.

    Flask-Mail's own ``configure_host`` leaves the socket open when the login
    or STARTTLS fails; this closes it.
    """
    connection = mail.connect()
    if mail.suppress:
        return connection.__enter__()
    host = None
    try:
        host = (smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP)(mail.server, mail.port)
        host.set_debuglevel(int(mail.debug))
        if mail.use_tls:
            host.starttls()
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
    except Exception as error:
        if host is not None:
            host.close()
        return error
    connection.host, connection.num_emails = host, 0
    return connection


def close_connection(connection: Any) -> None:
    if connection is None or connection.host is None:
        return
    try:
        connection.host.quit()
    except Exception:
        try:
            connection.host.close()
        except Exception:
            pass



def is_permanent(error: BaseException) -> bool:
    """A refusal that retrying cannot fix: a 5xx for the recipient, a bad header."""
    if isinstance(error, BadHeaderError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return False


def is_setup_problem(error: BaseException) -> bool:
    """An error of the settings or the server, not of this email."""
    return isinstance(error, (MailSetupError, smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError))
