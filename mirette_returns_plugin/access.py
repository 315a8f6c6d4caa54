"""Who a signed-in user is with respect to one request."""

from __future__ import annotations

from .adapter import User
from .models import Request


class Role:
    BUYER = "buyer"
    ARTIST = "artist"
    SUPPORT = "support"
    #: The shop itself, through a public function such as ``confirm_refund``.
    SHOP = "shop"


def roles_on(user: User | None, request: Request) -> tuple[str, ...]:
    """The roles ``user`` holds on ``request``, most specific first.

    Empty means the user may not even know the request exists.
    """
    if user is None:
        return ()
    roles = []
    if user.ref == request.buyer_ref:
        roles.append(Role.BUYER)
    if user.artist_ref is not None and user.artist_ref == request.artist_ref:
        roles.append(Role.ARTIST)
    if user.is_support:
        roles.append(Role.SUPPORT)
    return tuple(roles)


def can_view(user: User | None, request: Request) -> bool:
    return bool(roles_on(user, request))
