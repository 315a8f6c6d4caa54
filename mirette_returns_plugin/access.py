"""Who is signed in, and who they are with respect to one request."""

from __future__ import annotations

from flask import has_request_context, request

from .adapter import User
from .domain import Parties, Role, acts_on_own_purchase, roles_on, sees_buyer_address
from .state import current_state

# Who holds which role on a request is the domain's (``domain.py``); this
# module adds who is signed in, which only a web request knows.
__all__ = ["Parties", "Role", "acts_on_own_purchase", "can_view", "current_user", "roles_on", "sees_buyer_address"]

#: Where the signed-in user is kept for the rest of the request.
_USER_KEY = "mirette_returns.user"


def can_view(user: User | None, request: Parties) -> bool:
    return bool(roles_on(user, request))


def current_user() -> User | None:
    """The signed-in user, asked of the adapter once per request.

    A page asks several times (the view, the language, the layout); a shop's
    ``current_user`` usually reads its database. The answer is kept in the
    request's WSGI environ, which lives exactly as long as the request.
    """
    adapter = current_state().adapter
    if not has_request_context():
        return adapter.current_user()
    environ = request.environ
    if _USER_KEY not in environ:
        environ[_USER_KEY] = adapter.current_user()
    user: User | None = environ[_USER_KEY]
    return user

