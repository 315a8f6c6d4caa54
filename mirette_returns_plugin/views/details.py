"""The "See details" page of one request, the same URL for buyer, artist and support.

It shows the status, the timeline (history and messages), the photos, the
refund, a reply box and one small form per step the transition table allows
the viewer now. Each piece is a named block, so htmx can refresh it alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, request, url_for
from werkzeug.wrappers import Response

from .. import poll_keys, poll_version, workflow
from ..access import current_user, roles_on
from ..errors import MiretteReturnsError, ValidationError
from ..htmx import wants_fragment
from ..i18n import gettext as _
from ..models import Request
from ..rendering import empty, flash_notice, render, render_blocks
from ..state import current_state
from .common import FormState, not_found, prepare_photos, see_other, text, uploaded_files
from .detail_page import DetailPage, Poller, load, visible_request

TEMPLATE = "mirette_returns/request_detail.html"

#: Endpoint of the poll (the shortcut before Flask finds its URL by it).
NEWS_ENDPOINT = "request_news"

#: Blocks refreshed around the one a form targets, after any change.
LIVE_BLOCKS = ("summary", "timeline", "poller")


def register(blueprint: Blueprint) -> None:
    rule = blueprint.add_url_rule
    rule("/requests/<int:request_id>", "request_detail", request_detail)
    rule("/requests/<int:request_id>/messages", "post_message", post_message, methods=["POST"])
    rule("/requests/<int:request_id>/actions/<action>", "perform_action", perform_action, methods=["POST"])
    rule("/requests/<int:request_id>/news", NEWS_ENDPOINT, request_news)


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
    visible_request(user, request_id)
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
    req, _roles = visible_request(user, request_id)
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
            done = current_state().session.get(Request, request_id) or req
            label = workflow.status_label(done.status, done.kind)
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
    "no" to htmx is a new poller with a new key. Most keyed "no"s are given
    before Flask by :mod:`..poll_shortcut`; this path gives them when it
    stands aside (sessions kept on the server, the setting off, Flask-Limiter).
    """
    after = request.args.get("after")
    if after and poll_keys.is_valid(request.headers.get(poll_keys.HEADER), request_id):
        version = poll_version.read(poll_version.engine(), request_id)
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
