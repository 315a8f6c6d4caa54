"""What a notification email says: subject, plain text and HTML.

Emails are rendered when they are queued, in the recipient's language, so an
outbox row holds everything needed to send it and the worker needs neither
the adapter nor the request. The bodies come from templates under
``mirette_returns/email/`` that a shop overrides at the same path (see
``docs/notifications.md`` for their context).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, format_currency
from werkzeug.routing import BuildError

from . import words as shop_words
from .access import Role, sees_buyer_address
from .errors import ConfigurationError
from .i18n import N_, gettext as _, ngettext
from .mail_settings import links_root, sender
from .models import HistoryEntry, Message, Request, RequestKind
from .state import current_state
from .user_text import neutral_bidi, visible_or_empty

#: Characters of a message, a note or instructions quoted in an email.
EXCERPT_LENGTH = 300

#: Folder of the email templates (``<name>.txt`` and ``<name>.html``).
TEMPLATE_DIR = "mirette_returns/email"

#: What happened, in one sentence, per topic (an action, or an action and a
#: kind). ``%(actor)s`` is who did it.
HEADLINES: dict[str, str] = {
    "submit:return": N_("%(buyer)s would like to return %(quantity)s × %(item)s from order %(number)s."),
    "submit:exchange": N_("%(buyer)s would like to exchange %(quantity)s × %(item)s from order %(number)s."),
    "submit:cancellation": N_("%(buyer)s asks you to cancel their order %(number)s before you process it. "
                              "If nothing has been shipped yet, refuse the order: the buyer is then refunded."),
    "submit:cancellation:single": N_("%(buyer)s asks you to cancel their order %(number)s before you process "
                                     "it. If nothing has been shipped yet, cancel it: the buyer is then refunded "
                                     "what they paid."),
    "accept": N_("%(actor)s accepted the request and gave the return instructions below."),
    "decline": N_("%(actor)s declined the request."),
    "decline:cancellation": N_("%(actor)s declined the cancellation: the order has already been processed. "
                               "Once it has arrived, a return can be requested instead."),
    "withdraw": N_("%(actor)s withdrew the request. Nothing more needs to be done."),
    "ship_back": N_("%(actor)s has sent the item back."),
    "receive": N_("%(actor)s received the item back in good condition."),
    # The buyer said the item was damaged or wrong: never "in good condition".
    "receive:faulty": N_("%(actor)s received the item back."),
    "convert_to_refund": N_("%(actor)s will refund this exchange instead of sending another item, so that "
                            "the item wanted can be ordered again."),
    "ship_replacement": N_("%(actor)s shipped the replacement item."),
    "decide_refund": N_("%(actor)s received the item back and will refund %(amount)s instead of the "
                        "estimated %(estimate)s, for the reason below."),
    # The buyer may disagree: the way to the support team, in the same email.
    "decide_refund:buyer": N_("%(actor)s received the item back and will refund %(amount)s instead of the "
                              "estimated %(estimate)s, for the reason below. If you disagree, you can ask the "
                              "support team to step in from the request's page."),
    "initiate_refund": N_("A refund of %(amount)s has been initiated."),
    "refund_initiated": N_("A refund of %(amount)s has been initiated."),
    "refund_failed": N_("The refund of %(amount)s could not be initiated. Nothing was paid; it can be "
                        "retried from the request's page."),
    "confirm_refund": N_("The refund of %(amount)s is confirmed."),
    "refuse_order": N_("%(actor)s refused the order, as asked, so it is cancelled. A refund of %(amount)s "
                       "is being initiated."),
    # A shop that is its own only seller cancels what its buyer asked it to.
    "refuse_order:single": N_("%(actor)s cancelled the order, as asked. A refund of %(amount)s is being "
                              "initiated."),
    "refuse_order:unpaid": N_("%(actor)s cancelled the order, as asked. Nothing was charged for it, so there "
                              "is nothing to refund."),
    "escalate": N_("%(actor)s asked the support team to step in."),
    "escalate:system": N_("%(artist)s has not answered in time, so the support team was asked to step in."),
    "resolve_escalation": N_("The support team marked its case on this request as resolved."),
    "remind_artist": N_("%(buyer)s is still waiting for your answer on this request. Please take the next step "
                        "from the request's page."),
    "remind_buyer": N_("%(artist)s accepted your request and is waiting for the item. Please send it back as "
                       "the return instructions say, then tell them so on the request's page."),
    "message": N_("%(actor)s wrote:"),
}

#: Subject words per topic; a topic missing here is named by its new status.
SUBJECTS: dict[str, str] = {
    "submit:return": N_("New return request"),
    "submit:exchange": N_("New exchange request"),
    "submit:cancellation": N_("New cancellation request"),
    "convert_to_refund": N_("Exchange converted to a refund"),
    "decide_refund": N_("Partial refund decided"),
    "refund_initiated": N_("Refund initiated"),
    "refund_failed": N_("Refund could not be initiated"),
    "escalate": N_("Support team asked to step in"),
    "resolve_escalation": N_("Support case resolved"),
    "remind_artist": N_("Reminder: the buyer is waiting for your answer"),
    "remind_buyer": N_("Reminder: please send the item back"),
    "message:return": N_("New message about your return request"),
    "message:exchange": N_("New message about your exchange request"),
    "message:cancellation": N_("New message about your cancellation request"),
    "message": N_("New message from %(actor)s"),
}

#: Template per topic; ``update`` for every other step.
TEMPLATES: dict[str, str] = {
    "submit": "new_request",
    "message": "new_message",
    "refund_failed": "refund_failed",
}

#: Which of the request's texts an action quotes, and under which heading.
QUOTES: dict[str, tuple[str, str]] = {
    "accept": ("instructions", N_("Return instructions")),
    "remind_buyer": ("instructions", N_("Return instructions")),
    "decline": ("decline_reason", N_("Reason")),
    "decide_refund": ("refund_decision_reason", N_("Why less is refunded")),
}

#: Actions whose email shows the refund amount.
REFUND_ACTIONS = frozenset({"initiate_refund", "refund_initiated", "refund_failed", "confirm_refund", "refuse_order",
                            "decide_refund"})


@dataclass(frozen=True)
class Recipient:
    """Who an email goes to, and in which language."""

    role: str
    address: str
    name: str | None
    locale: str


@dataclass(frozen=True)
class Event:
    """Something that happened to a request: a history row or a message.

    ``message`` may accompany a history row: a cancellation's opening message
    is quoted in the "new cancellation request" email.
    """

    request: Request
    entry: HistoryEntry | None = None
    message: Message | None = None
    #: Every message one email gathers, oldest first (``message`` is the newest).
    gathered: tuple[Message, ...] = ()

    @property
    def action(self) -> str:
        return self.entry.action if self.entry is not None else "message"

    @property
    def key(self) -> str:
        """``history-<id>`` or ``message-<id>``: the event, once for all recipients."""
        if self.entry is not None:
            return f"history-{self.entry.id}"
        assert self.message is not None
        return f"message-{self.message.id}"

    @property
    def actor_role(self) -> str:
        return self.entry.actor_role if self.entry is not None else self.message.author_role

    @property
    def actor_ref(self) -> str:
        return self.entry.actor_ref if self.entry is not None else self.message.author_ref


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Fact:
    """One line of the facts table: a label and its value."""

    label: str
    value: str


@dataclass
class EmailContext:
    """What the templates get (besides ``_``, ``gettext`` and ``ngettext``)."""

    recipient: Recipient
    request: Request
    greeting: str
    headline: str
    order_number: str
    item: str
    status: str
    details_url: str
    details_label: str
    quote: str | None = None
    quote_label: str | None = None
    #: Excerpts of several messages gathered in one email, oldest first.
    quotes: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    amount: str | None = None
    footer: str = ""


def render(event: Event, recipient: Recipient) -> RenderedEmail:
    """The email ``recipient`` receives about ``event``, in their language."""
    with force_locale(recipient.locale):
        context = build_context(event, recipient)
        name = TEMPLATES.get(event.action, "update")
        values = {"email": context, "_": _, "gettext": _, "ngettext": ngettext}
        text = _render_template(f"{TEMPLATE_DIR}/{name}.txt", values)
        html = _render_template(f"{TEMPLATE_DIR}/{name}.html", values)
        subject = _subject(event, recipient, context)
    return RenderedEmail(subject=subject, text=_tidy_text(text), html=html)


def _render_template(name: str, values: dict[str, object]) -> str:
    # Through the app's Jinja environment, so a shop's template at the same
    # path wins, but without the shop's context processors: they describe
    # the person viewing a page, who is not the person reading the email.
    return current_app.jinja_env.get_template(name).render(values)


def build_context(event: Event, recipient: Recipient) -> EmailContext:
    from .workflow import came_back_faulty, status_label

    request = event.request
    topic = _topic(event)
    amount = _money(request) if event.action in REFUND_ACTIONS and request.refund_total else None
    words = {
        "actor": _actor_name(event),
        "buyer": request.buyer_name,
        "artist": request.artist_name,
        "item": request.product_name or "",
        "quantity": request.quantity,
        "number": request.order_number,
        "amount": amount or "",
        "estimate": format_currency(request.refund_total or Decimal("0"), request.currency),
    }
    if event.action == "decide_refund" and recipient.role == Role.BUYER:
        topic = "decide_refund:buyer"
    if topic == "receive" and came_back_faulty(request):
        topic = "receive:faulty"
    if topic == "submit:cancellation" and not shop_words.is_marketplace():
        topic = "submit:cancellation:single"
    headline = _(HEADLINES.get(topic) or HEADLINES.get(event.action, "%(actor)s"), **words)
    quote, quote_label = _quote(event)
    return EmailContext(
        recipient=recipient,
        request=request,
        greeting=_("Hello %(name)s,", name=recipient.name) if recipient.name else _("Hello,"),
        headline=headline,
        order_number=request.order_number,
        item=item_label(request, recipient.role),
        status=status_label(request.status, request.kind),
        details_url=details_url(request.id),
        details_label=_("See details"),
        quote=quote,
        quote_label=quote_label,
        quotes=[text for text in (excerpt(m.body) for m in event.gathered) if text],
        facts=_facts(event, recipient, amount),
        amount=amount,
        footer=_("You receive this email because you take part in this request. To answer, write on the "
                 "request's page."),
    )


def item_label(request: Request, role: str) -> str:
    """The item a request is about: the product, or the artist's part of the order."""
    if request.kind == RequestKind.CANCELLATION:
        if role == Role.BUYER:
            return _("your order from %(artist)s", artist=request.artist_name)
        return _("items from %(artist)s", artist=request.artist_name)
    return request.product_name or ""


def excerpt(text: str | None, length: int = EXCERPT_LENGTH) -> str | None:
    """The first ``length`` characters of ``text``, cut between words, its
    bidirectional controls made harmless (see :mod:`.user_text`)."""
    text = visible_or_empty(text)
    if not text:
        return None
    if len(text) <= length:
        return neutral_bidi(text)
    cut = text[:length]
    space = cut.rfind(" ")
    if space > length * 2 // 3:
        cut = cut[:space]
    # Neutralised after the cut: a control whose pair was cut off goes too.
    return neutral_bidi(cut.rstrip(" ,;:.")) + "…"


def details_url(request_id: int) -> str:
    """Absolute link to the request's "See details" page.

    Built from the shop's settings alone, never from the current request's
    ``Host`` header (see :mod:`.mail_settings`).
    """
    state = current_state()
    endpoint = f"{state.blueprint_name}.request_detail"
    return links_root(current_app, state.config) + _path(endpoint, request_id)


def _path(endpoint: str, request_id: int) -> str:
    """The path of ``endpoint`` below the application's root."""
    try:
        return current_app.url_map.bind("localhost").build(endpoint, {"request_id": request_id})
    except BuildError:
        return f"{current_state().config['URL_PREFIX'] or ''}/requests/{request_id}"


def mail_domain() -> str:
    """The domain of the Message-IDs: the shop's setting, else the sender's, else the shop's host."""
    state = current_state()
    if state.config.get("MAIL_DOMAIN"):
        return str(state.config["MAIL_DOMAIN"]).strip().lower()
    app = current_app._get_current_object()
    found = sender(app, state.config)
    if isinstance(found, (tuple, list)):
        found = found[-1]
    address = parseaddr(str(found or ""))[1]
    if "@" in address:
        return address.rsplit("@", 1)[1].lower()
    # The host the links point at (the same rule as the links themselves).
    return urlsplit(links_root(app, state.config)).hostname or "localhost"


def thread_id(request_id: int, domain: str) -> str:
    """The Message-ID every email of one request refers to, so they thread."""
    return f"<mirette-returns-request-{request_id}@{domain}>"


def message_id(event_key: str, token: str, domain: str) -> str:
    """A Message-ID for one email, stable across delivery attempts."""
    local = re.sub(r"[^A-Za-z0-9.-]+", ".", event_key).strip(".")
    return f"<mirette-returns.{local}.{token}@{domain}>"


def _topic(event: Event) -> str:
    from .workflow import refusal_topic

    kind = event.request.kind
    if event.action in ("submit", "decline") or (event.action == "message"):
        return f"{event.action}:{kind}"
    if event.action == "refuse_order":
        return refusal_topic(event.entry.to_status if event.entry is not None else None)
    if event.action == "escalate" and event.actor_role == Role.SYSTEM:
        return "escalate:system"
    return event.action


def _subject(event: Event, recipient: Recipient, context: EmailContext) -> str:
    from .workflow import status_label

    topic = _topic(event)
    if event.action == "message" and recipient.role != Role.BUYER:
        if event.actor_role == Role.SUPPORT:
            what = _("New message from the support team")
        else:
            what = _(SUBJECTS["message"], actor=_actor_name(event))
    elif topic in SUBJECTS:
        what = _(SUBJECTS[topic])
    elif event.action in SUBJECTS:
        what = _(SUBJECTS[event.action])
    else:
        what = status_label(event.entry.to_status if event.entry is not None else event.request.status,
                            event.request.kind)
    prefix = shop_words.subject_prefix()
    subject = _("Order %(number)s – %(item)s: %(what)s", number=context.order_number, item=context.item, what=what)
    subject = " ".join(f"{prefix} {subject}".split())
    return subject if len(subject) <= 255 else subject[:254] + "…"


def _quote(event: Event) -> tuple[str | None, str | None]:
    request = event.request
    if event.message is not None:
        # The headline already says who wrote it, except in a cancellation's
        # "new request" email, which quotes the buyer's opening message.
        label = _("Message") if event.entry is not None else None
        return excerpt(event.message.body), label
    action = event.action
    if action in QUOTES:
        column, label = QUOTES[action]
        return excerpt(getattr(request, column)), _(label)
    if action == "submit":
        return excerpt(request.comment), _("Comment")
    if action == "refund_failed":
        return excerpt(event.entry.note), _("Error")
    return excerpt(event.entry.note if event.entry else None), _("Note")


def _facts(event: Event, recipient: Recipient, amount: str | None) -> list[Fact]:
    from .workflow import kind_label, status_label

    request = event.request
    facts = [Fact(_("Order"), request.order_number)]
    if request.kind == RequestKind.CANCELLATION:
        facts.append(Fact(shop_words.seller_label(), request.artist_name))
        if recipient.role != Role.BUYER:
            # The address the buyer gave for this cancellation (help page).
            address = request.contact_email or (request.buyer_email if sees_buyer_address((recipient.role,))
                                                 else None)
            facts.append(Fact(_("Buyer"), f"{request.buyer_name} <{address}>" if address else request.buyer_name))
    else:
        item = request.product_name or ""
        if request.variant:
            item = f"{item} ({request.variant})"
        facts.append(Fact(_("Item"), f"{request.quantity} × {item}"))
        reason = current_state().reasons.get(request.reason_code)
        if reason is not None:
            facts.append(Fact(_("Reason"), reason.display))
        if request.wanted_label:
            facts.append(Fact(_("Wanted instead"), neutral_bidi(request.wanted_label)))
    facts.append(Fact(_("Request"), kind_label(request.kind)))
    facts.append(Fact(_("Status"), status_label(request.status, request.kind)))
    if event.action == "ship_back" and request.return_tracking:
        facts.append(Fact(_("Tracking number"), neutral_bidi(request.return_tracking)))
    if event.action == "ship_replacement" and request.replacement_tracking:
        facts.append(Fact(_("Tracking number"), neutral_bidi(request.replacement_tracking)))
    if amount:
        facts.append(Fact(_("Refund"), amount))
    if event.action == "remind_artist":
        from .moments import day
        from .reminders import support_steps_in_at

        steps_in = support_steps_in_at(request)
        if steps_in is not None:
            facts.append(Fact(_("Support steps in on"), day(steps_in)))
    return facts


def _actor_name(event: Event) -> str:
    role = event.actor_role
    if role == Role.SUPPORT and shop_words.is_marketplace():
        return _("The support team")
    recorded = event.entry.actor_name if event.entry is not None else event.message.author_name
    return shop_words.shown_name(role, recorded, event.request.artist_name)


def _money(request: Request) -> str:
    amount = request.refund_amount if request.refund_amount is not None else Decimal("0")
    return format_currency(amount, request.currency)


def _tidy_text(text: str) -> str:
    """No trailing spaces (but the signature's ``-- ``), at most one blank line in a row."""
    lines = [line if line == "-- " else line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"
