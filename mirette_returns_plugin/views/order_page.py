"""What the buyer's "Return Request" page of one order shows.

Built from the shop's order (through the adapter) and the plugin's requests
on it, asking the workflow every "may I?" question: the page itself holds no
rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from .. import workflow
from ..adapter import Artist, ExchangeOption, Order, OrderLine, OrderPart, ReturnPolicy, Stage, User, order_of_buyer
from ..errors import NotFound
from ..i18n import N_, gettext as _
from ..models import Request, RequestKind
from ..money import RefundPreview, preview_return
from ..state import current_state
from ..windows import ReturnWindow, current_window
from .common import FormState

STAGE_LABELS = {
    Stage.PENDING: N_("Not yet processed"),
    Stage.ACCEPTED: N_("Accepted, being prepared"),
    Stage.SHIPPED: N_("Shipped"),
    Stage.DELIVERED: N_("Delivered"),
    Stage.CANCELLED: N_("Cancelled"),
}


def stage_label(stage: Stage) -> str:
    return _(STAGE_LABELS.get(stage, str(stage)))


@dataclass
class LineView:
    part_artist_ref: str
    line: OrderLine
    returnable: int
    requests: list[Request]
    #: Why no new request can be made on this line now, if it cannot.
    block_reason: str | None
    product_url: str | None

    @property
    def ref(self) -> str:
        return self.line.ref

    @property
    def can_request(self) -> bool:
        return self.block_reason is None and self.returnable > 0

    @property
    def bought(self) -> int:
        return self.line.quantity


@dataclass
class PartView:
    part: OrderPart
    artist: Artist | None
    artist_url: str | None
    lines: list[LineView]
    cancellations: list[Request]
    #: Why this part cannot be cancelled (processed, cancelled), if it cannot.
    cancel_block: str | None
    #: The cancellation already asked and still open, if any.
    open_cancellation: Request | None
    #: What the buyer paid for the part and no request refunds yet (``None``: all paid).
    paid_left: Decimal | None = None

    @property
    def artist_ref(self) -> str:
        return self.part.artist_ref

    @property
    def artist_name(self) -> str:
        return self.artist.name if self.artist else self.part.artist_ref

    @property
    def policy(self) -> ReturnPolicy | None:
        return self.artist.policy if self.artist else None

    @property
    def window(self) -> ReturnWindow | None:
        """The return window that applies: the artist's, or the legal minimum."""
        return current_window(self.artist.policy.window_days) if self.artist else None

    @property
    def stage_label(self) -> str:
        return stage_label(self.part.stage)

    @property
    def can_cancel(self) -> bool:
        return self.cancel_block is None and self.open_cancellation is None

    @property
    def cancel_note(self) -> str | None:
        """Why the part offers no cancellation, unless its lines say it
        already (a cancelled part) or its open request shows it."""
        if self.open_cancellation is not None or self.part.stage == Stage.CANCELLED:
            return None
        return self.cancel_block


@dataclass
class OrderPage:
    order: Order
    parts: list[PartView]
    order_url: str | None
    #: The open forms: ``"return:<line ref>"``, ``"cancel:<artist ref>"``, ``"cancel:*"``.
    forms: dict[str, FormState] = field(default_factory=dict)

    @property
    def cancellable_parts(self) -> list[PartView]:
        return [part for part in self.parts if part.can_cancel]

    def find_line(self, line_ref: str) -> tuple[PartView, LineView] | None:
        for part in self.parts:
            for line in part.lines:
                if line.ref == line_ref:
                    return part, line
        return None

    def find_part(self, artist_ref: str) -> PartView | None:
        return next((part for part in self.parts if part.artist_ref == artist_ref), None)

    def form(self, key: str) -> FormState:
        """The form ``key`` as last posted, or a blank one."""
        return self.forms.get(key) or FormState()


def buyer_order(user: User | None, order_ref: str) -> Order:
    """The order, if ``user`` bought it; otherwise the same 404 as for no order."""
    order = order_of_buyer(current_state().adapter, str(order_ref), user.ref) if user is not None else None
    if order is None:
        raise NotFound(_("This order does not exist."))
    return order


def build(user: User | None, order_ref: str) -> OrderPage:
    state = current_state()
    adapter = state.adapter
    order = buyer_order(user, order_ref)
    requests = state.session.scalars(
        sa.select(Request).where(Request.order_ref == order.ref, Request.buyer_ref == order.buyer_ref)
        .order_by(Request.id)
    ).all()
    held = workflow.held_quantities(order.ref)
    parts = []
    for part in order.parts:
        artist = adapter.get_artist(part.artist_ref)
        part_block = workflow.return_block_reason(order, part, artist=artist)
        lines = []
        for line in part.lines:
            line_block = part_block
            if line_block is None and not line.returnable:
                line_block = workflow.return_block_reason(order, part, line, artist=artist)
            lines.append(LineView(
                part_artist_ref=part.artist_ref,
                line=line,
                returnable=workflow.returnable_quantity(line, held),
                requests=[r for r in requests if r.line_ref == line.ref and r.kind != RequestKind.CANCELLATION],
                block_reason=line_block,
                product_url=adapter.product_url(line.product_ref),
            ))
        cancellations = [r for r in requests if r.kind == RequestKind.CANCELLATION
                         and r.artist_ref == part.artist_ref]
        cancel_block = workflow.cancel_block_reason(part)
        parts.append(PartView(
            part=part,
            artist=artist,
            artist_url=adapter.artist_url(part.artist_ref),
            lines=lines,
            cancellations=cancellations,
            cancel_block=cancel_block,
            open_cancellation=None if cancel_block else workflow.open_cancellation(order.ref, part.artist_ref),
            paid_left=workflow.paid_left(order.ref, part),
        ))
    return OrderPage(order=order, parts=parts, order_url=adapter.order_url(order.ref))


def preview(part: PartView, line: LineView, quantity: int, reason_code: str | None = None) -> RefundPreview | None:
    """The refund ``quantity`` units of ``line`` would bring, under the artist's
    policy and for the reason chosen so far."""
    if part.policy is None or quantity < 1 or quantity > line.returnable:
        return None
    reason = current_state().reasons.get(reason_code)
    return preview_return(part.policy, part.part, line.line, quantity,
                          seller_fault=bool(reason and reason.seller_fault), paid_left=part.paid_left)


@dataclass
class ReturnFormState(FormState):
    """The "Request return" form of one line."""

    preview: RefundPreview | None = None
    options: list[ExchangeOption] = field(default_factory=list)


def as_quantity(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def return_form(page: OrderPage, part: PartView, line: LineView, *, values: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None, token: str | None = None) -> ReturnFormState:
    """Open the return form of ``line`` on ``page`` (first view, or after errors)."""
    values = values or {"quantity": line.returnable, "kind": RequestKind.RETURN}
    quantity = as_quantity(values.get("quantity"))
    form = ReturnFormState(
        values=values,
        errors=errors or {},
        preview=preview(part, line, quantity if quantity is not None else line.returnable,
                        values.get("reason_code")),
        options=current_state().adapter.exchange_options(page.order.ref, line.ref),
    )
    if token:
        form.token = token
    page.forms[f"return:{line.ref}"] = form
    return form
