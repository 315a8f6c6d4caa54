"""The words the domain is written in: statuses, kinds of request and roles,
and who holds which role on a request.

Each is an :class:`enum.StrEnum`: a member *is* its string, so the database
stores, the templates print and plain strings compare exactly as before
(``Status.REQUESTED == "requested"``). This module imports nothing of the
web side.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, ClassVar, Protocol

from .state import current_state

if TYPE_CHECKING:
    from .adapter import User


class Parties(Protocol):
    """Who a request is between: a :class:`~.models.Request`, or a row of those two columns."""

    @property
    def buyer_ref(self) -> str: ...

    @property
    def artist_ref(self) -> str: ...


class PortableStrEnum(str, Enum):
    """:class:`enum.StrEnum` of Python 3.11, for 3.10: printed and formatted as its value."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return str.__format__(str(self.value), spec)


if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - exercised on Python 3.10
    StrEnum = PortableStrEnum


class Status(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    SHIPPED_BACK = "shipped_back"
    RECEIVED = "received"
    REFUND_INITIATED = "refund_initiated"
    REFUNDED = "refunded"
    REPLACEMENT_SHIPPED = "replacement_shipped"
    ORDER_REFUSED = "order_refused"
    #: A cancellation of a part the buyer had not paid: nothing to refund.
    CANCELLED = "cancelled"


class RequestKind(StrEnum):
    RETURN = "return"
    EXCHANGE = "exchange"
    CANCELLATION = "cancellation"

    #: Every kind, in the order pages list them: declared here, set after the
    #: class (given a value inside it, it would become a member).
    ALL: ClassVar[tuple[RequestKind, ...]]


RequestKind.ALL = (RequestKind.RETURN, RequestKind.EXCHANGE, RequestKind.CANCELLATION)


class Role(StrEnum):
    BUYER = "buyer"
    ARTIST = "artist"
    SUPPORT = "support"
    #: The shop itself, through a public function such as ``confirm_refund``.
    SHOP = "shop"
    #: The plugin itself, on a schedule (``flask mirette-returns tick``).
    SYSTEM = "system"


#: Statuses after which nothing more happens.
FINAL_STATUSES = frozenset(
    {Status.DECLINED, Status.WITHDRAWN, Status.REFUNDED, Status.REPLACEMENT_SHIPPED, Status.CANCELLED}
)

#: Statuses whose quantity is free again: nothing was taken back, or the
#: buyer holds a replacement they may in turn return or exchange.
RELEASING_STATUSES = frozenset({Status.DECLINED, Status.WITHDRAWN, Status.REPLACEMENT_SHIPPED})

LINE_KINDS = frozenset({RequestKind.RETURN, RequestKind.EXCHANGE})
ALL_KINDS = frozenset(RequestKind)


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
