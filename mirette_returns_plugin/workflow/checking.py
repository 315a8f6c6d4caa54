"""Whether a person may take a step now: the row, their role, the request's
version and status, the row's guard and the fields they filled in."""

from __future__ import annotations

from ..adapter import User
from ..context import Context
from ..domain import Role, acts_on_own_purchase, roles_on
from ..errors import Conflict, NotAllowed, NotFound, ValidationError
from ..i18n import gettext as _
from ..labels import status_label
from ..models import Request
from ..user_text import visible_or_empty
from .steps import Transition, find_transition
from .transaction import as_number, lock_request


def check_step(ctx: Context, user: User | None, request_id: object, action: str, version: int | str | None, *,
               actor_role: str | None = None,
               **given: str | None) -> tuple[Request, Transition, str, dict[str, str | None]]:
    """Lock the request and check that ``user`` may take ``action`` now.

    Returns ``(request, transition, role, field values)``; raises with a
    message for the user otherwise.
    """
    request = lock_request(request_id)
    transition, role = authorise(user, request, action, actor_role)
    if version is not None and as_number(version) != request.version:
        raise Conflict(_("This request changed since you opened the page. Look at its new status and try again."))
    if request.status not in transition.sources:
        raise NotAllowed(_("This request is “%(status)s”: this step is not possible now.",
                           status=status_label(request.status, request.kind)))
    if transition.guard:
        blocked = transition.guard(request)
        if blocked:
            raise NotAllowed(blocked)
    return request, transition, role, check_fields(ctx, transition, **given)


def authorise(user: User | None, request: Request, action: str, actor_role: str | None) -> tuple[Transition, str]:
    """The row of ``action`` for this request, and the role ``user`` takes it in; or raise."""
    roles = (actor_role,) if actor_role else roles_on(user, request)
    if not roles:
        raise NotFound(_("This request does not exist."))
    transition = find_transition(request.kind, action)
    if transition is None:
        raise NotAllowed(_("This step does not exist for this request."))
    role = next((r for r in roles if r in transition.roles), None)
    if role is None and not actor_role and acts_on_own_purchase(user, request):
        raise NotAllowed(_("You bought this order, so on this request you act only as its buyer: another "
                           "member of the team must take this step."))
    if role is None:
        raise NotAllowed(_("Only %(who)s can do this.", who=_roles_in_words(transition.roles)))
    return transition, role


def check_fields(ctx: Context, transition: Transition, **given: str | None) -> dict[str, str | None]:
    errors: dict[str, str] = {}
    values: dict[str, str | None] = {}
    for form_field in transition.fields:
        raw = visible_or_empty(given.get(form_field.name))
        most = form_field.max_length or ctx.config["MESSAGE_MAX_LENGTH"]
        if form_field.required and not raw:
            errors[form_field.name] = _("This field is required.")
        elif len(raw) > most:
            errors[form_field.name] = _("Keep this under %(most)s characters.", most=most)
        values[form_field.name] = raw or None
    if errors:
        raise ValidationError(errors)
    return values


def _roles_in_words(roles: frozenset[str]) -> str:
    words = {Role.BUYER: _("the buyer"), Role.ARTIST: _("the artist"), Role.SUPPORT: _("the support team"),
             Role.SHOP: _("the shop")}
    ordered = [words[r] for r in (Role.BUYER, Role.ARTIST, Role.SUPPORT, Role.SHOP) if r in roles]
    return _(" or ").join(ordered)
