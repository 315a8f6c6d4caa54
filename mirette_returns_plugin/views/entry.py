"""What a shop's own order page needs: is there anything to do on this order?"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for

from .. import workflow
from ..access import current_user
from ..adapter import order_of_buyer
from ..i18n import gettext as _
from ..models import Request
from ..state import current_state


@dataclass(frozen=True)
class OrderActions:
    """Whether the "Return Request" button has a reason to show, and its URL."""

    url: str | None = None
    returnable: bool = False
    cancellable: bool = False
    #: Requests to follow ("See details") even when nothing more can be asked.
    has_requests: bool = False

    def __bool__(self) -> bool:
        return self.returnable or self.cancellable or self.has_requests


NOTHING = OrderActions()


def order_actions(order_ref: object) -> OrderActions:
    """For the signed-in buyer of ``order_ref``; stops at the first reason found."""
    state = current_state()
    user = current_user()
    if user is None:
        return NOTHING
    order = order_of_buyer(state.adapter, str(order_ref), user.ref)
    if order is None:
        return NOTHING
    url = url_for(f"{state.blueprint_name}.order_requests", order_ref=order.ref)
    if any(workflow.cancel_block_reason(part) is None for part in order.parts):
        return OrderActions(url=url, cancellable=True)
    has_requests = state.session.scalar(
        sa.select(Request.id).where(Request.order_ref == order.ref, Request.buyer_ref == user.ref).limit(1)
    ) is not None
    held = workflow.held_quantities(order.ref)
    for part in order.parts:
        if not any(workflow.returnable_quantity(line, held) > 0 for line in part.lines):
            continue
        if workflow.return_block_reason(order, part) is None:
            return OrderActions(url=url, returnable=True, has_requests=has_requests)
    return OrderActions(url=url, has_requests=has_requests)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str


def nav_links() -> list[NavLink]:
    """The plugin's pages the signed-in person works in, for the shop's own navigation:
    the seller's requests, and every request for support. Empty for a buyer or nobody."""
    user = current_user()
    if user is None:
        return []
    name = current_state().blueprint_name
    links = []
    if user.artist_ref:
        links.append(NavLink(_("Requests on my items"), url_for(f"{name}.artist_inbox")))
    if user.is_support:
        links.append(NavLink(_("Every request"), url_for(f"{name}.support_list")))
    return links
