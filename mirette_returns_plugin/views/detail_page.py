"""What the "See details" page shows of one request, for one viewer: the
request, its timeline, the steps they may take, the refund and the poll.

:func:`load` reads it all once per page; the routes (:mod:`.details`) render it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, request as web_request, url_for
from markupsafe import Markup

from .. import fragments, moments, poll_keys, reminders, workflow
from ..access import Role, roles_on, sees_buyer_address
from ..adapter import OrderLine, ReturnPolicy, ReturnShippingPayer, User
from ..models import HistoryEntry, Message, Photo, Refund, Request, RequestKind
from ..rendering import render_partial
from ..state import current_state
from ..windows import ReturnWindow, applicable_window
from . import timeline
from .common import FormState, not_found
from .timeline import PhotoView

#: One page of the timeline's items.
TIMELINE_TEMPLATE = "mirette_returns/_timeline_items.html"


@dataclass
class ActionForm:
    """One step the viewer may take now, with its form."""

    transition: workflow.Transition
    role: str
    form: FormState
    #: The button's words, translated (see ``workflow.action_label``).
    label: str = ""

    @property
    def action(self) -> str:
        return self.transition.action


@dataclass(frozen=True)
class Poller:
    """What the page's poll sends: its URL, and its key in a header (never in the URL)."""

    request_id: int
    version: int
    #: The steps on offer when the page was rendered (the poll compares).
    action_names: str
    viewer_ref: str

    def news_url(self) -> str:
        return url_for(".request_news", request_id=self.request_id, after=self.version, actions=self.action_names)

    def headers(self) -> str:
        """The ``hx-headers`` value carrying a new key (:mod:`..poll_keys`)."""
        return poll_keys.headers_json(poll_keys.issue(self.request_id, self.viewer_ref))


@dataclass
class DetailPage:
    request: Request
    user: User
    roles: tuple[str, ...]
    #: This page of the timeline, drawn (``_timeline_items.html``).
    timeline_html: Markup
    photos: list[PhotoView]
    refund: Refund | None
    actions: list[ActionForm]
    policy: ReturnPolicy
    reason_label: str | None
    artist_url: str | None
    product_url: str | None
    order_url: str | None
    #: A cancellation's items, as the shop knows them now.
    part_lines: list[OrderLine] = field(default_factory=list)
    reply: FormState = field(default_factory=FormState)
    #: A refused or stale step, shown above the forms.
    action_error: str | None = None
    #: What the step just taken did, shown (and read out) above the forms.
    action_notice: str | None = None
    #: The next page of the timeline, older messages (``None``: none older).
    older_url: str | None = None
    #: Back to the newest messages, on a page of older ones.
    newer_url: str | None = None
    #: Why the viewer may no longer write here (shown instead of the reply box).
    reply_closed: str | None = None
    #: When support steps in on its own if the artist stays silent (the buyer's page only).
    support_steps_in: datetime | None = None

    @property
    def is_buyer(self) -> bool:
        return Role.BUYER in self.roles

    @property
    def is_artist(self) -> bool:
        return Role.ARTIST in self.roles

    @property
    def is_support(self) -> bool:
        return Role.SUPPORT in self.roles

    @property
    def buyer_address(self) -> str | None:
        """The buyer's account address, to those who may see it."""
        return self.request.buyer_email if sees_buyer_address(self.roles) else None

    @property
    def window(self) -> ReturnWindow:
        """The return window frozen with the request: the artist's, or the legal minimum then."""
        return applicable_window(self.request.policy_window_days, self.request.policy_minimum_window_days)

    @property
    def status_label(self) -> str:
        return workflow.status_label(self.request.status, self.request.kind)

    @property
    def came_back_faulty(self) -> bool:
        """The buyer said the item was damaged or wrong: no "good condition" on this page."""
        return workflow.came_back_faulty(self.request)

    @property
    def kind_label(self) -> str:
        return workflow.kind_label(self.request.kind)

    @property
    def is_cancellation(self) -> bool:
        return self.request.kind == RequestKind.CANCELLATION

    @property
    def action_names(self) -> str:
        return ",".join(form.action for form in self.actions)

    @property
    def poller(self) -> Poller:
        return Poller(self.request.id, self.request.version, self.action_names, self.user.ref)

    def action_form(self, action: str) -> ActionForm | None:
        return next((form for form in self.actions if form.action == action), None)

    @property
    def offers_refund(self) -> bool:
        """The viewer may (re)start the refund now: a step that pays is offered."""
        return any(form.transition.pays for form in self.actions)

    @property
    def offers_escalation(self) -> bool:
        return any(form.transition is workflow.ESCALATE for form in self.actions)


#: The page's first read, built once: the request, fresh, and its refund.
_REQUEST_WITH_REFUND = (
    sa.select(Request, Refund).outerjoin(Refund, Refund.request_id == Request.id)
    .where(Request.id == sa.bindparam("id")).execution_options(populate_existing=True)
)


def visible_request(user: User | None, request_id: int) -> tuple[Request, tuple[str, ...]]:
    found = current_state().session.get(Request, request_id, populate_existing=True)
    return _seen_by(user, found)


def _visible_with_refund(user: User | None, request_id: int) -> tuple[Request, tuple[str, ...], Refund | None]:
    """:func:`visible_request`, and the request's refund read with it in the same statement."""
    row = current_state().session.execute(_REQUEST_WITH_REFUND, {"id": request_id}).first()
    found, roles = _seen_by(user, row[0] if row is not None else None)
    assert row is not None  # refused by _seen_by()
    return found, roles, row[1]


def _seen_by(user: User | None, found: Request | None) -> tuple[Request, tuple[str, ...]]:
    """``found`` and ``user``'s roles on it; not found for someone without any."""
    roles = roles_on(user, found) if found is not None else ()
    if found is None or not roles:
        raise not_found()
    return found, roles


def load(user: User | None, request_id: int, *, before: int | None = None) -> DetailPage:
    """Everything the page shows, in a fixed number of queries (fewer when
    the page of the timeline is already drawn).

    ``before``: the oldest message id the previous page of the timeline
    showed (see :func:`_draw_timeline`).
    """
    state = current_state()
    req, roles, refund = _visible_with_refund(user, request_id)
    assert user is not None  # roles_on() gives nobody a role
    size = max(1, state.config["TIMELINE_PAGE_SIZE"])
    # The same for every reader allowed to see the request (checked above),
    # while its version stays (see mirette_returns_plugin.fragments).
    # The template is in the key as an object: one read again (a shop's edit,
    # with auto-reload) draws the timeline again. The links in it start with
    # the app's root, which one app served under two paths does not share.
    template = current_app.jinja_env.get_template(TIMELINE_TEMPLATE)
    key = fragments.request_key("timeline", req, before, size, moments.formatter().reader_key, template,
                                web_request.script_root)
    drawn = state.fragments.get_or_make(key, lambda: _draw_timeline(req, before, size), TimelineSlice.bytes)
    adapter = state.adapter
    page = DetailPage(
        request=req,
        user=user,
        roles=roles,
        timeline_html=drawn.html,
        photos=drawn.photos,
        refund=refund,
        actions=[ActionForm(transition, role, FormState(values={"version": req.version}),
                            workflow.action_label(transition, req))
                 for transition, role in workflow.available_actions(user, req)],
        policy=frozen_policy(req),
        reason_label=state.reasons.label(req.reason_code) if req.reason_code else None,
        artist_url=adapter.artist_url(req.artist_ref),
        product_url=adapter.product_url(req.product_ref) if req.product_ref else None,
        order_url=adapter.order_url(req.order_ref) if Role.BUYER in roles else None,
        older_url=drawn.older_url,
        newer_url=url_for(".request_detail", request_id=req.id) if before is not None else None,
        reply_closed=workflow.closed_thread_reason(req, roles[0]),
        support_steps_in=reminders.support_steps_in_at(req) if Role.BUYER in roles else None,
    )
    if page.is_cancellation:
        order = adapter.get_order(req.order_ref)
        part = order.part(req.artist_ref) if order else None
        page.part_lines = list(part.lines) if part else []
    return page


@dataclass(frozen=True)
class TimelineSlice:
    """One page of a request's timeline as drawn, with what the page around it needs."""

    html: Markup
    #: The photos sent with the request, and with the messages of this page.
    photos: list[PhotoView]
    #: The page of older items (``None``: none older).
    older_url: str | None

    def bytes(self) -> int:
        """About what keeping it costs, for the fragment cache's bound."""
        return sys.getsizeof(self.html) + 512 * len(self.photos) + 256


def _draw_timeline(req: Request, before: int | None, size: int) -> TimelineSlice:
    """Read and draw one page of ``req``'s timeline, newest first.

    Paged by message id (a keyset: a page of old messages costs what the
    first one does): ``before`` is the oldest message id the previous page
    showed. The steps shown with a page are those between its oldest
    message and the previous page's.
    """
    state = current_state()
    db = state.session
    newest_first = sa.select(Message).where(Message.request_id == req.id).order_by(Message.id.desc())
    if before is not None:
        newest_first = newest_first.where(Message.id < before)
    messages = db.scalars(newest_first.limit(size + 1)).all()
    has_older = len(messages) > size
    messages = messages[:size]
    steps = sa.select(HistoryEntry).where(HistoryEntry.request_id == req.id)
    if before is not None:
        steps = steps.where(HistoryEntry.created_at < sa.select(Message.created_at).where(
            Message.id == before, Message.request_id == req.id).scalar_subquery())
    if has_older:
        steps = steps.where(HistoryEntry.created_at >= messages[-1].created_at)
    history = db.scalars(steps.order_by(HistoryEntry.id)).all()
    # The request's own photos, and those of the messages on this page.
    photos = db.scalars(sa.select(Photo).where(
        Photo.request_id == req.id,
        sa.or_(Photo.message_id.is_(None), Photo.message_id.in_([m.id for m in messages])),
    ).order_by(Photo.id)).all()
    edge = state.config["THUMBNAIL_EDGE"]
    items = timeline.build(history, messages, photos, edge, seller_name=req.artist_name,
                           currency=req.currency, estimate=req.refund_total, request=req)
    older_url = url_for(".request_detail", request_id=req.id, before=messages[-1].id) if has_older else None
    return TimelineSlice(
        html=render_partial(TIMELINE_TEMPLATE, items=items, older_url=older_url),
        photos=timeline.photo_views(photos, edge, req.artist_name),
        older_url=older_url,
    )


def frozen_policy(req: Request) -> ReturnPolicy:
    """The artist's policy as it was when the request was sent."""
    try:
        payer = ReturnShippingPayer(req.policy_return_shipping_paid_by)
    except ValueError:
        payer = ReturnShippingPayer.BUYER
    return ReturnPolicy(
        window_days=req.policy_window_days,
        refunds_delivery_costs=bool(req.policy_refunds_delivery),
        return_shipping_paid_by=payer,
        restocking_fee_percent=req.policy_restocking_fee_percent,
        text=req.policy_text or "",
        url=req.policy_url,
        answer_days=req.policy_answer_days,
    )
