"""One timeline per request: history rows and messages merged by time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for

from ..access import Role
from ..i18n import N_, gettext as _
from ..models import HistoryEntry, Message, Photo
from ..workflow import status_label

#: What each history action says, after the actor's name.
ACTION_TEXTS = {
    "submit": N_("sent the request"),
    "accept": N_("accepted the request and gave return instructions"),
    "decline": N_("declined the request"),
    "withdraw": N_("withdrew the request"),
    "ship_back": N_("sent the item back"),
    "receive": N_("confirmed the product was received in good condition"),
    "convert_to_refund": N_("turned the exchange into a refund, so the item can be reordered"),
    "ship_replacement": N_("shipped the replacement"),
    "initiate_refund": N_("initiated the refund"),
    "refund_initiated": N_("initiated the refund"),
    "refund_failed": N_("could not initiate the refund"),
    "retry_refund": N_("retried the refund"),
    "confirm_refund": N_("confirmed the refund was paid"),
    "refuse_order": N_("refused the order; the refund is initiated"),
    "escalate": N_("asked the support team to step in"),
    "resolve_escalation": N_("marked the support case as resolved"),
}

ROLE_LABELS = {
    Role.BUYER: N_("Buyer"),
    Role.ARTIST: N_("Artist"),
    Role.SUPPORT: N_("Support team"),
    Role.SHOP: N_("Shop"),
}


#: A photo's description, per role of who sent it: whole sentences, so that
#: each language can write them its own way.
PHOTO_ALTS = {
    Role.BUYER: N_("Photo %(number)s, sent by the buyer"),
    Role.ARTIST: N_("Photo %(number)s, sent by the artist"),
    Role.SUPPORT: N_("Photo %(number)s, sent by the support team"),
    Role.SHOP: N_("Photo %(number)s, sent by the shop"),
}


def photo_alt(number: int, role: str) -> str:
    return _(PHOTO_ALTS.get(role, PHOTO_ALTS[Role.BUYER]), number=number)


def role_label(role: str) -> str:
    return _(ROLE_LABELS.get(role, role))


def action_text(action: str) -> str:
    return _(ACTION_TEXTS.get(action, action))


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


def photo_views(photos: Iterable[Photo], thumbnail_edge: int) -> list[PhotoView]:
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
            alt=photo_alt(number, photo.uploaded_by_role),
        ))
    return views


@dataclass
class TimelineItem:
    """A status change, a step, or a message."""

    key: str
    is_message: bool
    at: datetime
    who: str
    role: str
    text: str | None
    #: For a history row: what happened, and the status it led to when it changed.
    action_text: str | None = None
    new_status: str | None = None
    photos: list[PhotoView] = field(default_factory=list)

    @property
    def role_label(self) -> str:
        return role_label(self.role)


def build(history: Iterable[HistoryEntry], messages: Iterable[Message], photos: list[Photo],
          thumbnail_edge: int) -> list[TimelineItem]:
    by_message: dict[int | None, list[Photo]] = {}
    for photo in photos:
        by_message.setdefault(photo.message_id, []).append(photo)
    items = []
    for entry in history:
        changed = entry.from_status != entry.to_status
        items.append(TimelineItem(
            key=f"h{entry.id}",
            is_message=False,
            at=entry.created_at,
            who=entry.actor_name,
            role=entry.actor_role,
            text=entry.note,
            action_text=action_text(entry.action),
            new_status=status_label(entry.to_status) if changed else None,
            # The photos sent with the request belong to its first row.
            photos=photo_views(by_message.get(None, []), thumbnail_edge) if entry.action == "submit" else [],
        ))
    for message in messages:
        items.append(TimelineItem(
            key=f"m{message.id}",
            is_message=True,
            at=message.created_at,
            who=message.author_name,
            role=message.author_role,
            text=message.body,
            photos=photo_views(by_message.get(message.id, []), thumbnail_edge),
        ))
    items.sort(key=lambda item: (item.at, item.is_message, item.key))
    return items
