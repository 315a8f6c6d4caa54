"""The buyer's pages: "Return Request" for one order, its forms, cancellation."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, request, url_for
from werkzeug.wrappers import Response

from .. import workflow
from ..access import current_user
from ..errors import MiretteReturnsError, NotAllowed, NotFound, ValidationError
from ..htmx import wants_fragment
from ..i18n import gettext as _, ngettext
from ..models import Request
from ..photos import PreparedPhoto
from ..rendering import flash_notice, render
from . import order_page
from .common import FormState, dry_run_errors, prepare_photos, see_other, text, uploaded_files
from .order_page import LineView, OrderPage, PartView

TEMPLATE = "mirette_returns/order_requests.html"


def register(blueprint: Blueprint) -> None:
    rule = blueprint.add_url_rule
    rule("/orders/<order_ref>", "order_requests", order_requests)
    rule("/orders/<order_ref>/lines/<line_ref>", "order_line", order_line)
    rule("/orders/<order_ref>/lines/<line_ref>/return", "return_form", return_form, methods=["GET"])
    rule("/orders/<order_ref>/lines/<line_ref>/return", "submit_return", submit_return, methods=["POST"])
    rule("/orders/<order_ref>/lines/<line_ref>/preview", "refund_preview", refund_preview)
    rule("/orders/<order_ref>/cancel", "request_cancellation", request_cancellation, methods=["POST"])


def _page_and_line(order_ref: str, line_ref: str) -> tuple[OrderPage, PartView, LineView]:
    page = order_page.build(current_user(), order_ref)
    found = page.find_line(line_ref)
    if found is None:
        raise NotFound(_("This item is not part of the order."))
    return page, *found


def _line_anchor(order_ref: str, line_ref: str) -> str:
    return url_for(".order_requests", order_ref=order_ref, _anchor=f"mr-line-{line_ref}")


def order_requests(order_ref: str) -> Response:
    """The "Return Request" page: every line, grouped by artist."""
    page = order_page.build(current_user(), order_ref)
    return render(TEMPLATE, page=page)


def order_line(order_ref: str, line_ref: str) -> Response:
    """One line of the page (htmx: closes its form); without htmx, the page at that line."""
    page, part, line = _page_and_line(order_ref, line_ref)
    if not wants_fragment():
        return see_other(_line_anchor(order_ref, line_ref))
    return render(TEMPLATE, fragment=("line",), page=page, part=part, line=line)


def return_form(order_ref: str, line_ref: str) -> Response:
    """The "Request return" form: in place with htmx, else the page with the form open."""
    page, part, line = _page_and_line(order_ref, line_ref)
    if not line.can_request:
        raise NotAllowed(line.block_reason or _("Every unit of this item is already under a request."))
    order_page.return_form(page, part, line)
    return render(TEMPLATE, fragment=("return_form",), page=page, part=part, line=line, open_line=line.ref)


def refund_preview(order_ref: str, line_ref: str) -> Response:
    """The refund estimate for the quantity chosen in the form (htmx)."""
    page, part, line = _page_and_line(order_ref, line_ref)
    if not wants_fragment():
        return see_other(url_for(".return_form", order_ref=order_ref, line_ref=line_ref))
    quantity = order_page.as_quantity(request.args.get("quantity"))
    form = order_page.return_form(page, part, line, values={
        "quantity": quantity, "reason_code": request.args.get("reason_code", "")})
    return render(TEMPLATE, fragment=("refund_preview",), page=page, part=part, line=line, form=form)


def submit_return(order_ref: str, line_ref: str) -> Response:
    """"Submit a request": create the return or exchange, or show the form's messages."""
    user = current_user()
    page, part, line = _page_and_line(order_ref, line_ref)
    assert user is not None  # the page of an order answers 404 to nobody
    values = {name: request.form.get(name, "") for name in
              ("quantity", "kind", "reason_code", "comment", "wanted_ref", "wanted_text")}
    token = text("submission_token") or None
    existing = workflow.already_submitted(user, token)
    if existing is not None:
        # Sent again after a lost answer: the request it made, not "already requested".
        return _submitted(order_ref, line_ref, existing)
    photos: list[PreparedPhoto] = []
    photo_error: str | None = None
    refused: MiretteReturnsError | None = None
    try:
        # The cheap checks first (the buyer's order above, then the line's
        # status and the limits): a refused request never costs a photo
        # decode, and answers as the form of such a line does.
        if not line.can_request:
            raise NotAllowed(line.block_reason or _("Every unit of this item is already under a request."))
        files = uploaded_files()
        if files:
            workflow.check_new_request(user, photo_count=len(files))
        photos, photo_error = prepare_photos()
    except MiretteReturnsError as error:
        refused = error
    form = workflow.ReturnForm(
        line_ref=line.ref,
        quantity=values["quantity"],
        kind=values["kind"].strip(),
        reason_code=values["reason_code"].strip() or None,
        comment=values["comment"],
        wanted_ref=values["wanted_ref"].strip() or None,
        wanted_text=values["wanted_text"].strip() or None,
        photos=photos,
        submission_token=token,
    )
    status = 422
    if refused is not None:
        errors, status = {"__all__": refused.message}, refused.status_code
    elif photo_error:
        # Report every other problem too, without saving anything.
        errors = dry_run_errors(lambda: workflow.submit_return(
            user, page.order.ref, replace(form, photos=[], submission_token=None), commit=False))
        errors["photos"] = photo_error
    else:
        try:
            created = workflow.submit_return(user, page.order.ref, form)
        except ValidationError as error:
            errors = dict(error.errors)
        except MiretteReturnsError as error:
            errors, status = {"__all__": error.message}, error.status_code
        else:
            return _submitted(order_ref, line_ref, created)
    order_page.return_form(page, part, line, values=values, errors=errors, token=token)
    return render(TEMPLATE, fragment=("line",), status=status, page=page, part=part, line=line,
                  open_line=line.ref)


def _submitted(order_ref: str, line_ref: str, created: Request) -> Response:
    message = _("Your request was sent to %(artist)s. They will answer you here.", artist=created.artist_name)
    if not wants_fragment():
        flash_notice(message)
        return see_other(url_for(".request_detail", request_id=created.id))
    page, part, line = _page_and_line(order_ref, line_ref)
    return render(TEMPLATE, fragment=("line",), page=page, part=part, line=line,
                  line_notice={line.ref: message})


def request_cancellation(order_ref: str) -> Response:
    """Ask one artist (``artist_ref``) or every one (``scope=all``) to cancel their part."""
    user = current_user()
    page = order_page.build(user, order_ref)
    every_artist = text("scope") == "all"
    artist_ref = text("artist_ref")
    key = "cancel:*" if every_artist else f"cancel:{artist_ref}"
    values = {"message": request.form.get("message", ""), "contact_email": text("contact_email")}
    token = text("submission_token") or None
    status = 422
    try:
        created = workflow.request_cancellation(
            user, page.order.ref, None if every_artist else [artist_ref],
            message=values["message"], contact_email=values["contact_email"], submission_token=token,
        )
    except ValidationError as error:
        errors = dict(error.errors)
    except MiretteReturnsError as error:
        errors, status = {"__all__": error.message}, error.status_code
    else:
        names = ", ".join(request_.artist_name for request_ in created)
        message = ngettext("Your cancellation request was sent to %(names)s.",
                           "Your cancellation requests were sent to %(names)s.", len(created), names=names)
        if not wants_fragment():
            flash_notice(message)
            return see_other(url_for(".order_requests", order_ref=order_ref, _anchor="mr-parts"))
        page = order_page.build(user, order_ref)
        return render(TEMPLATE, fragment=("parts",), page=page, parts_notice=message)
    form = FormState(values=values, errors=errors)
    if token:
        form.token = token
    message = errors.get("__all__") or next(iter(errors.values()), "")
    if every_artist:
        # "Ask every artist" is only shown for two or more parts; a stale page
        # may post it for fewer, so show the answer where the buyer can see it.
        pending = page.cancellable_parts
        if len(pending) == 1:
            key = f"cancel:{pending[0].artist_ref}"
        elif not pending:
            return render(TEMPLATE, fragment=("parts",), status=status, page=page, parts_error=message)
    else:
        # A part asked already (409) or processed meanwhile (403) has no form
        # any more: its refusal goes where its form was.
        part = page.find_part(artist_ref)
        if part is None:
            return render(TEMPLATE, fragment=("parts",), status=status, page=page, parts_error=message)
        if not part.can_cancel:
            return render(TEMPLATE, fragment=("parts",), status=status, page=page,
                          cancel_error={part.artist_ref: message})
    page.forms[key] = form
    return render(TEMPLATE, fragment=("parts",), status=status, page=page)
