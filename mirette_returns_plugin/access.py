"""Who is signed in, and who they are with respect to one request."""

from __future__ import annotations

from typing import Protocol

from flask import has_request_context, request

from .adapter import User
from .state import current_state

#: Where the signed-in user is kept for the rest of the request.
_USER_KEY = "mirette_returns.user"


class Role:
    BUYER = "buyer"
    ARTIST = "artist"
    SUPPORT = "support"
    #: The shop itself, through a public function such as ``confirm_refund``.
    SHOP = "shop"
    #: The plugin itself, on a schedule (``flask mirette-returns tick``).
    SYSTEM = "system"


class Parties(Protocol):
    """Who a request is between: a :class:`~.models.Request`, or a row of those two columns."""

    @property
    def buyer_ref(self) -> str: ...

    @property
    def artist_ref(self) -> str: ...


def roles_on(user: User | None, request: Parties) -> tuple[str, ...]:
    """The roles ``user`` holds on ``request``, most specific first.

    Empty means the user may not even know the request exists. On a request
    they bought, a person is the buyer only, even if they are also its artist
    or on the support team: nobody accepts, receives or refunds their own
    return (separation of duties).
    """
    if user is None:
        return ()
    if user.ref == request.buyer_ref:
        return (Role.BUYER,)
    roles = []
    if user.artist_ref is not None and user.artist_ref == request.artist_ref:
        roles.append(Role.ARTIST)
    if user.is_support:
        roles.append(Role.SUPPORT)
    return tuple(roles)


def acts_on_own_purchase(user: User | None, request: Parties) -> bool:
    """Whether ``user`` bought ``request`` and would otherwise also be its
    artist or support: the roles :func:`roles_on` sets aside."""
    return (user is not None and user.ref == request.buyer_ref
            and (user.is_support or (user.artist_ref is not None and user.artist_ref == request.artist_ref)))


def sees_buyer_address(roles: tuple[str, ...] | list[str]) -> bool:
    """Whether someone holding ``roles`` on a request sees the buyer's account
    address: the support team always, an artist when the shop allows it
    (``SHOW_BUYER_EMAIL_TO_ARTISTS``). A cancellation's contact address is
    shown to both, as the buyer gave it for the answer."""
    if Role.SUPPORT in roles:
        return True
    return Role.ARTIST in roles and bool(current_state().config["SHOW_BUYER_EMAIL_TO_ARTISTS"])


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

