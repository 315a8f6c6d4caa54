"""One timeline per request: history rows and messages merged by time, newest first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask import url_for

from .. import moments, reminders, words, workflow
from ..amounts import money
from ..domain import Role
from ..i18n import N_, gettext as _
from ..labels import status_label
from ..models import HistoryEntry, Message, Photo, Request
from ..user_text import neutral_bidi

#: Every step a history row may have been written by: the workflow's and the tick's.
STEPS = (*workflow.STEPS, *reminders.STEPS)

ROLE_LABELS: dict[str, str] = {
    Role.BUYER: N_("Buyer"),
    Role.ARTIST: N_("Artist"),
    Role.SUPPORT: N_("Support team"),
    Role.SHOP: N_("Shop"),
    Role.SYSTEM: N_("Automatic"),
}


#: A photo's description, per role of who sent it: whole sentences, so that
#: each language can write them its own way.
PHOTO_ALTS: dict[str, str] = {
    Role.BUYER: N_("Photo %(number)s, sent by the buyer"),
    # The seller by name: a noun would need its own article in each language.
    Role.ARTIST: N_("Photo %(number)s, sent by %(name)s"),
    Role.SUPPORT: N_("Photo %(number)s, sent by the support team"),
    Role.SHOP: N_("Photo %(number)s, sent by the shop"),
}


def photo_alt(number: int, role: str, seller_name: str = "") -> str:
    if role == Role.ARTIST:
        return _(PHOTO_ALTS[role], number=number, name=seller_name)
    return _(PHOTO_ALTS.get(role, PHOTO_ALTS[Role.BUYER]), number=number)


def role_label(role: str) -> str:
    if role == Role.ARTIST:
        return words.seller_label()
    return _(ROLE_LABELS.get(role, role))


def action_text(entry: HistoryEntry, request: Request | None = None, **amounts: str) -> str:
    """What a history row says, in the words of its step's row; ``amounts``
    fill in a decided refund's figures."""
    step = workflow.step_named(entry.action, request.kind if request is not None else None, STEPS)
    if step is None:
        return entry.action
    said = step.words_for(request, entry) if request is not None else step.words
    return _(said.timeline, **amounts)


@dataclass(frozen=True)
class PhotoView:
    """A photo as a page shows it: a thumbnail linking to the full size."""

    id: int
    url: str
    thumb_url: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    alt: str


def photo_views(photos: Iterable[Photo], thumbnail_edge: int, seller_name: str = "") -> list[PhotoView]:
    views = []
    for number, photo in enumerate(photos, start=1):
        scale = min(1.0, thumbnail_edge / max(photo.width, photo.height, 1))
        views.append(PhotoView(
            id=photo.id,
            url=url_for("mirette_returns.photo", photo_id=photo.id),
            thumb_url=url_for("mirette_returns.photo", photo_id=photo.id, size="thumb"),
            width=photo.width,
            height=photo.height,
            thumb_width=max(1, round(photo.width * scale)),
            thumb_height=max(1, round(photo.height * scale)),
            alt=photo_alt(number, photo.uploaded_by_role, seller_name),
        ))
    return views


@dataclass
class TimelineItem:
    """A status change, a step, or a message, with the words the page shows.

    The words are written once here rather than by the template: a thread
    may hold hundreds of items.
    """

    key: str
    is_message: bool
    at: datetime
    who: str
    role: str
    role_label: str
    text: str | None
    #: When, for a reader (``when``) and for a machine (``iso``).
    when: str
    iso: str
    #: For a history row: what happened, and the status it led to when it changed.
    action_text: str | None = None
    new_status: str | None = None
    photos: list[PhotoView] = field(default_factory=list)


def build(history: Iterable[HistoryEntry], messages: Iterable[Message], photos: Sequence[Photo],
          thumbnail_edge: int, *, seller_name: str = "", currency: str = "EUR",
          estimate: Decimal | None = None, request: Request | None = None) -> list[TimelineItem]:
    """The request's timeline; ``seller_name`` is shown for whoever acted on the seller's side,
    ``estimate`` (in ``currency``) beside each refund amount a step decided; ``request``'s kind
    and reason pick the words that fit it."""
    by_message: dict[int | None, list[Photo]] = {}
    for photo in photos:
        by_message.setdefault(photo.message_id, []).append(photo)
    formatter = moments.formatter()
    role_labels: dict[str, str] = {}
    names: dict[tuple[str, str], str] = {}

    def item(key: str, is_message: bool, at: datetime, who: str, role: str, text: str | None,
             **more: object) -> TimelineItem:
        if role not in role_labels:
            role_labels[role] = role_label(role)
        if (role, who) not in names:
            names[(role, who)] = words.shown_name(role, who, seller_name)
        who = names[(role, who)]
        return TimelineItem(key=key, is_message=is_message, at=at, who=who, role=role,
                            role_label=role_labels[role], text=neutral_bidi(text), when=formatter.when(at),
                            iso=at.isoformat(), **more)  # type: ignore[arg-type]

    items = []
    for entry in history:
        changed = entry.from_status != entry.to_status
        amounts = {}
        if entry.amount is not None:
            amounts = {"amount": money(entry.amount, currency), "estimate": money(estimate, currency)}
        items.append(item(
            f"h{entry.id}", False, entry.created_at, entry.actor_name, entry.actor_role, entry.note,
            action_text=action_text(entry, request, **amounts),
            new_status=status_label(entry.to_status, request.kind if request is not None else None) if changed
            else None,
            # The photos sent with the request belong to its first row.
            photos=(photo_views(by_message.get(None, []), thumbnail_edge, seller_name)
                    if entry.action == workflow.SUBMIT.action else []),
        ))
    for message in messages:
        items.append(item(
            f"m{message.id}", True, message.created_at, message.author_name, message.author_role, message.body,
            photos=photo_views(by_message.get(message.id, []), thumbnail_edge, seller_name),
        ))
    # Newest first: the page opens on the latest news, older ones come a page at a time.
    items.sort(key=lambda entry: (entry.at, entry.is_message, entry.key), reverse=True)
    return items
