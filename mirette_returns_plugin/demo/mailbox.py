"""The demo's mailbox: every email the plugin queued, readable in the browser.

A real shop would never show its outbox; the demo does, because it sends no
email by default (see ``MAIL_SUPPRESS_SEND`` in ``create_app``). Each email
is written from its row's facts as the delivery worker writes it.
"""

from __future__ import annotations

from html.parser import HTMLParser

from flask import Blueprint, Response, abort, render_template, request

from .. import outbox_email, outbox_emails, outbox_recipients
from .guards import staff_only
from .security import EMAIL_BODY_POLICY

mailbox = Blueprint("demo_mailbox", __name__, url_prefix="/mailbox")
# Every email of every account: the staff's page only.
mailbox.before_request(staff_only)

#: Most emails listed at once (newest first).
LIST_LIMIT = 200


@mailbox.get("/")
def index() -> str:
    recipient = (request.args.get("to") or "").strip()
    emails = outbox_emails(recipient or None, limit=LIST_LIMIT)
    recipients = outbox_recipients()
    return render_template("demo/mailbox.html", emails=emails, recipients=recipients, recipient=recipient)


@mailbox.get("/<int:email_id>")
def read(email_id: int) -> str:
    email = outbox_email(email_id) or abort(404)
    return render_template("demo/email.html", email=email, links=links_in(email.body_html))


@mailbox.get("/<int:email_id>/html")
def html_body(email_id: int) -> Response:
    """The HTML body alone, for the sandboxed frame of the reading page.

    Served at its own URL under a policy that runs nothing, instead of being
    pasted into the page.
    """
    email = outbox_email(email_id) or abort(404)
    response = Response(email.body_html or "", mimetype="text/html")
    response.headers["Content-Security-Policy"] = EMAIL_BODY_POLICY
    response.headers["Cache-Control"] = "no-store"
    return response


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            text = " ".join("".join(self._text).split())
            self.links.append((text or self._href, self._href))
            self._href = None


def links_in(html: str | None) -> list[tuple[str, str]]:
    """``(text, address)`` of the web links of an email, to open them from the
    mailbox page: the sandboxed frame cannot navigate the page itself."""
    collector = _LinkCollector()
    collector.feed(html or "")
    collector.close()
    seen: dict[str, tuple[str, str]] = {}
    for text, href in collector.links:
        if href.startswith(("http://", "https://")) and href not in seen:
            seen[href] = (text, href)
    return list(seen.values())
