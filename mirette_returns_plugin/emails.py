"""What a notification email says: subject, plain text and HTML.

Emails are written when they are sent, in the recipient's language, from the
facts their outbox row keeps (:mod:`.email_facts`): the worker needs neither
the adapter nor the request's current state. :func:`render` is the one place
that looks the words of an event up. The bodies come from templates under
``mirette_returns/email/`` that a shop overrides at the same path (see
``docs/notifications.md`` for their context).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from werkzeug.routing import BuildError

from . import words as shop_words
from .amounts import money
from .domain import RequestKind, Role, sees_buyer_address
from .email_facts import EXCERPT_LENGTH, Event, Recipient, RequestFacts, excerpt
from .email_ids import mail_domain, message_id, thread_id
from .i18n import N_, gettext as _, ngettext
from .labels import kind_label, status_label
from .mail_settings import links_root
from .models import Request
from .state import current_state
from .user_text import neutral_bidi

__all__ = ["EXCERPT_LENGTH", "Event", "Recipient", "RenderedEmail", "excerpt", "mail_domain", "message_id", "render",
           "thread_id"]

#: Folder of the email templates (``<name>.txt`` and ``<name>.html``).
TEMPLATE_DIR = "mirette_returns/email"

#: Subject words of a message email, by the kind of request (the buyer's), or by its author.
MESSAGE_SUBJECTS: dict[str, str] = {
    RequestKind.RETURN: N_("New message about your return request"),
    RequestKind.EXCHANGE: N_("New message about your exchange request"),
    RequestKind.CANCELLATION: N_("New message about your cancellation request"),
}
MESSAGE_FROM = N_("New message from %(actor)s")
MESSAGE_HEADLINE = N_("%(actor)s wrote:")


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
    #: The request's values when the email was queued.
    request: Request | RequestFacts
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
        name = event.step.template if event.step is not None else "new_message"
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
    request = event.request
    step = event.step
    amount = _money(request) if step is not None and step.shows_refund and request.refund_total else None
    words = {
        "actor": _actor_name(event),
        "buyer": request.buyer_name,
        "artist": request.artist_name,
        "item": request.product_name or "",
        "quantity": request.quantity,
        "number": request.order_number,
        "amount": amount or "",
        "estimate": money(request.refund_total, request.currency),
    }
    if step is None:
        headline = _(MESSAGE_HEADLINE, **words)
    else:
        said = step.words_for(request, event.entry)
        for_buyer = said.buyer_headline if recipient.role == Role.BUYER else None
        headline = _(for_buyer or said.headline, **words)
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


def item_label(request: Request | RequestFacts, role: str) -> str:
    """The item a request is about: the product, or the artist's part of the order."""
    if request.kind == RequestKind.CANCELLATION:
        if role == Role.BUYER:
            return _("your order from %(artist)s", artist=request.artist_name)
        return _("items from %(artist)s", artist=request.artist_name)
    return request.product_name or ""


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


def _subject(event: Event, recipient: Recipient, context: EmailContext) -> str:
    if event.step is None:
        if recipient.role == Role.BUYER:
            what = _(MESSAGE_SUBJECTS[event.request.kind])
        elif event.actor_role == Role.SUPPORT:
            what = _("New message from the support team")
        else:
            what = _(MESSAGE_FROM, actor=_actor_name(event))
    else:
        subject = event.step.words_for(event.request, event.entry).subject
        what = _(subject) if subject else status_label(
            event.entry.to_status if event.entry is not None else event.request.status, event.request.kind)
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
    if event.step is None:
        # A history row whose step the table no longer has (queued before an
        # upgrade): its note as written, like a step that quotes nothing else.
        return excerpt(event.entry.note if event.entry else None), None
    said = event.step.words_for(request, event.entry)
    text = getattr(request, said.quote) if said.quote else (event.entry.note if event.entry else None)
    return excerpt(text), _(said.quote_label)


def _facts(event: Event, recipient: Recipient, amount: str | None) -> list[Fact]:
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
    step = event.step
    tracking = getattr(request, step.tracking_column) if step is not None and step.tracking_column else None
    if tracking:
        facts.append(Fact(_("Tracking number"), neutral_bidi(tracking)))
    if amount:
        facts.append(Fact(_("Refund"), amount))
    if step is not None and step.facts is not None:
        facts.extend(Fact(label, value) for label, value in step.facts(request, event.moment))
    return facts


def _actor_name(event: Event) -> str:
    role = event.actor_role
    if role == Role.SUPPORT and shop_words.is_marketplace():
        return _("The support team")
    recorded = event.entry.actor_name if event.entry is not None else event.message.author_name
    return shop_words.shown_name(role, recorded, event.request.artist_name)


def _money(request: Request | RequestFacts) -> str:
    amount = request.refund_amount if request.refund_amount is not None else Decimal("0")
    return money(amount, request.currency)


def _tidy_text(text: str) -> str:
    """No trailing spaces (but the signature's ``-- ``), at most one blank line in a row."""
    lines = [line if line == "-- " else line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"
