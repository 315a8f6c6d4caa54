"""The "See details" page of one request, the same URL for buyer, artist and support.

It shows the status, the timeline (history and messages), the photos, the
refund, a reply box and one small form per step the transition table allows
the viewer now. Each piece is a named block, so htmx can refresh it alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, request, url_for
from werkzeug.wrappers import Response

from .. import poll_keys, refunds, reminders, workflow
from ..access import Role, current_user, roles_on, sees_buyer_address
from ..adapter import OrderLine, ReturnPolicy, ReturnShippingPayer, User
from ..errors import MiretteReturnsError, ValidationError
from ..htmx import wants_fragment
from ..i18n import gettext as _
from ..models import HistoryEntry, Message, Photo, Refund, Request, RequestKind
from ..rendering import empty, flash_notice, render, render_blocks
from ..state import current_state
from ..windows import ReturnWindow, applicable_window
from . import timeline
from .common import FormState, not_found, prepare_photos, see_other, text, uploaded_files
from .timeline import PhotoView, TimelineItem

TEMPLATE = "mirette_returns/request_detail.html"

#: The poll's one read, built once.
_VERSION_OF = sa.select(Request.version).where(Request.id == sa.bindparam("id"))

#: Blocks refreshed around the one a form targets, after any change.
LIVE_BLOCKS = ("summary", "timeline", "poller")


def register(blueprint: Blueprint) -> None:
    rule = blueprint.add_url_rule
    rule("/requests/<int:request_id>", "request_detail", request_detail)
    rule("/requests/<int:request_id>/messages", "post_message", post_message, methods=["POST"])
    rule("/requests/<int:request_id>/actions/<action>", "perform_action", perform_action, methods=["POST"])
    rule("/requests/<int:request_id>/news", "request_news", request_news)


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
    timeline: list[TimelineItem]
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


def _visible_request(user: User | None, request_id: int) -> tuple[Request, tuple[str, ...]]:
    found = current_state().session.get(Request, request_id, populate_existing=True)
    roles = roles_on(user, found) if found is not None else ()
    if found is None or not roles:
        raise not_found()
    return found, roles


def load(user: User | None, request_id: int, *, before: int | None = None) -> DetailPage:
    """Everything the page shows, in a fixed number of queries.

    The timeline is paged, newest first, by message id (a keyset: a page of
    old messages costs what the first one does): ``before`` is the oldest
    message id the previous page showed. The steps shown with a page are
    those between its oldest message and the previous page's.
    """
    state = current_state()
    db = state.session
    req, roles = _visible_request(user, request_id)
    assert user is not None  # roles_on() gives nobody a role
    size = max(1, state.config["TIMELINE_PAGE_SIZE"])
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
    adapter = state.adapter
    page = DetailPage(
        request=req,
        user=user,
        roles=roles,
        timeline=timeline.build(history, messages, photos, edge, seller_name=req.artist_name,
                                currency=req.currency, estimate=req.refund_total, request=req),
        photos=timeline.photo_views(photos, edge, req.artist_name),
        refund=refunds.refund_of(req),
        actions=[ActionForm(transition, role, FormState(values={"version": req.version}),
                            workflow.action_label(transition, req))
                 for transition, role in workflow.available_actions(user, req)],
        policy=frozen_policy(req),
        reason_label=state.reasons.label(req.reason_code) if req.reason_code else None,
        artist_url=adapter.artist_url(req.artist_ref),
        product_url=adapter.product_url(req.product_ref) if req.product_ref else None,
        order_url=adapter.order_url(req.order_ref) if Role.BUYER in roles else None,
        older_url=url_for(".request_detail", request_id=req.id, before=messages[-1].id) if has_older else None,
        newer_url=url_for(".request_detail", request_id=req.id) if before is not None else None,
        reply_closed=workflow.closed_thread_reason(req, roles[0]),
        support_steps_in=reminders.support_steps_in_at(req) if Role.BUYER in roles else None,
    )
    if page.is_cancellation:
        order = adapter.get_order(req.order_ref)
        part = order.part(req.artist_ref) if order else None
        page.part_lines = list(part.lines) if part else []
    return page


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


def _seen(page: DetailPage) -> None:
    """After rendering: the viewer has read the request up to now."""
    workflow.mark_seen(page.user, page.request)


def request_detail(request_id: int) -> Response:
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before < 2**31:
        before = None
    page = load(current_user(), request_id, before=before)
    if before is not None and wants_fragment():
        # "Older messages" with htmx: only the items, put in place of the link.
        return render_blocks(TEMPLATE, ["timeline_page"], page=page)
    response = render(TEMPLATE, page=page)
    _seen(page)
    return response


def _live(page: DetailPage, primary: str, *, status: int = 200) -> Response:
    """``primary`` block for the element htmx targets, plus the live blocks out of band."""
    blocks = [primary, *(name for name in LIVE_BLOCKS if name != primary)]
    oob = [name for name in blocks if name != primary]
    if primary != "actions":
        blocks.append("actions")
        oob.append("actions")
    return render_blocks(TEMPLATE, blocks, oob=oob, status=status, page=page)


def post_message(request_id: int) -> Response:
    """The reply box: a message, photos, or both."""
    user = current_user()
    _visible_request(user, request_id)
    body = request.form.get("body", "")
    status = 422
    try:
        files = uploaded_files()
        if files:
            # Who, which status, how often: all checked before a photo is decoded.
            workflow.check_message(user, request_id, body, photo_count=len(files))
        photos, photo_error = prepare_photos()
        if photo_error:
            raise ValidationError({"photos": photo_error})
        workflow.post_message(user, request_id, body, photos=photos)
    except ValidationError as error:
        errors = dict(error.errors)
    except MiretteReturnsError as error:
        errors, status = {"__all__": error.message}, error.status_code
    else:
        if not wants_fragment():
            flash_notice(_("Your message was sent."))
            return see_other(url_for(".request_detail", request_id=request_id, _anchor="mr-timeline"))
        page = load(user, request_id)
        response = _live(page, "reply")
        _seen(page)
        return response
    page = load(user, request_id)
    page.reply = FormState(values={"body": body}, errors=errors)
    if wants_fragment():
        return render_blocks(TEMPLATE, ["reply"], status=status, page=page)
    return render(TEMPLATE, status=status, page=page)


def perform_action(request_id: int, action: str) -> Response:
    """One step of the transition table, if the viewer may take it now."""
    user = current_user()
    req, _roles = _visible_request(user, request_id)
    values = {"note": request.form.get("note", ""), "tracking": request.form.get("tracking", ""),
              "amount": request.form.get("amount", ""), "version": text("version")}
    available = {t.action: t for t, _role in workflow.available_actions(user, req)}
    errors: dict[str, str] = {}
    status = 422
    top_error = None
    if action in available and available[action].destructive and not request.form.get("confirm"):
        errors["confirm"] = _("Tick the box to confirm.")
    else:
        try:
            workflow.perform(user, request_id, action, version=values["version"] or None,
                             note=values["note"], tracking=values["tracking"], amount=values["amount"])
        except ValidationError as error:
            errors = dict(error.errors)
        except MiretteReturnsError as error:
            top_error, status = error.message, error.status_code
        else:
            done = current_state().session.get(Request, request_id)
            label = workflow.status_label((done or req).status)
            message = _("Done. The request is now “%(status)s”.", status=label)
            if not wants_fragment():
                flash_notice(message)
                return see_other(url_for(".request_detail", request_id=request_id))
            page = load(user, request_id)
            page.action_error = None
            page.action_notice = message
            response = _live(page, "actions")
            _seen(page)
            return response
    page = load(user, request_id)
    page.action_error = top_error
    form = page.action_form(action)
    if form is not None:
        # Keep what was typed; a stale page gets the new version with it.
        form.form.values.update(note=values["note"], tracking=values["tracking"], amount=values["amount"])
        form.form.errors = errors
    elif errors and top_error is None:
        page.action_error = next(iter(errors.values()))
    if wants_fragment():
        return _live(page, "actions", status=status)
    return render(TEMPLATE, status=status, page=page)


def request_news(request_id: int) -> Response:
    """The poll: 204 when nothing changed since ``after``.

    With the key the page gave it (:mod:`..poll_keys`), a "no" costs one
    indexed read of the version; otherwise the viewer is checked first, and a
    "no" to htmx is a new poller with a new key.
    """
    after = request.args.get("after")
    if after and poll_keys.is_valid(request.headers.get(poll_keys.HEADER), request_id):
        # Outside the ORM session and without a transaction: one statement,
        # one round trip (no BEGIN, no ROLLBACK).
        engine = current_state().session.get_bind(mapper=sa.inspect(Request)).engine
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            version = connection.execute(_VERSION_OF, {"id": request_id}).scalar()
        if version is not None and after == str(version):
            return empty(204)
    user = current_user()
    row = current_state().session.execute(
        sa.select(Request.version, Request.buyer_ref, Request.artist_ref).where(Request.id == request_id)
    ).one_or_none()
    if row is None or not roles_on(user, row):
        raise not_found()
    if request.args.get("after") == str(row.version):
        if not wants_fragment():
            return empty(204)
        # The key was missing, wrong or expired and the viewer may see the
        # request: the same poller with a new key, so the next polls are cheap.
        assert user is not None  # roles_on() gives nobody a role
        poller = Poller(request_id, row.version, request.args.get("actions", ""), user.ref)
        return render_blocks(TEMPLATE, ["poller"], poller=poller)
    if not wants_fragment():
        return see_other(url_for(".request_detail", request_id=request_id))
    page = load(user, request_id)
    blocks = ["poller", "summary", "timeline"]
    # The action forms are replaced only when the steps on offer changed, so
    # that a note being typed is not wiped by a new message; otherwise only
    # their version fields are, so that a step taken after the page showed
    # the news is not refused as stale.
    if request.args.get("actions", "") != page.action_names:
        blocks.append("actions")
    else:
        blocks.append("action_versions")
    # The notice of the viewer's own last step stays: a poll sent just before
    # that step must not wipe it.
    response = render_blocks(TEMPLATE, blocks, oob=blocks[1:], page=page, keep_action_notice=True)
    _seen(page)
    return response
