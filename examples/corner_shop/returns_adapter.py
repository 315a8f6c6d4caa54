"""How the Corner Tea House mounts mirette-returns: a mapping, no adapter class."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
from flask import url_for

from mirette_returns_plugin import ExchangeOption, RefundOrder, RefundResult, ReturnPolicy, Stage
from mirette_returns_plugin.sqla_adapter import (
    LineMap, OrderMap, ProductMap, ShopMapping, SingleSeller, SQLAlchemyShopAdapter, UserMap, constant)

from .auth import signed_in_member
from .models import Member, Purchase, PurchaseLine, Status, Tea, TillRefund, db

POLICY = ReturnPolicy(window_days=30, text="Unopened tea and teaware within 30 days of delivery. "
                      "Return postage is yours; gift cards are final.")


def pounds(pence: int | None) -> Decimal:
    return Decimal(pence or 0).scaleb(-2)


def other_sizes(line: PurchaseLine) -> list[ExchangeOption]:
    tea = db.session.get(Tea, line.tea_id)
    return [ExchangeOption(ref=f"{tea.id}:{size}", label=f"{tea.title}, {size}", unit_price=pounds(tea.price_pence))
            for size in tea.size_list() if size != line.size] if tea else []


def record_till_refund(refund: RefundOrder) -> RefundResult:
    """The owner pays refunds back at the till; the Till page confirms them."""
    row = db.session.scalar(sa.select(TillRefund).where(TillRefund.key == refund.idempotency_key))
    if row is None:
        row = TillRefund(key=refund.idempotency_key, purchase_number=refund.order_ref,
                         amount_pence=int(refund.amount * 100),
                         created_at=datetime.now(timezone.utc).replace(tzinfo=None))
        db.session.add(row)
        db.session.commit()
    return RefundResult(reference=f"till-{str(row.id)[:8]}", completed=False)


adapter = SQLAlchemyShopAdapter(ShopMapping(
    order=OrderMap(Purchase, ref="number", buyer_ref="member_id", currency=constant("GBP"), stage="status",
                   delivered_at="delivered_at", delivery_cost=lambda p: pounds(p.postage_pence)),
    line=LineMap(PurchaseLine, order_ref="purchase_id", product_ref="tea_id", quantity="qty",
                 unit_price=lambda line: pounds(line.price_pence), variant="size"),
    product=ProductMap(Tea, name="title", returnable=lambda tea: not tea.is_gift_card,
                       image_url=lambda tea: url_for("corner.tea_image", tea_id=tea.id)),
    users=UserMap(current=signed_in_member, model=Member, name="full_name", locale="language",
                  is_seller=lambda m: m.role in ("staff", "owner"), is_support=lambda m: m.role == "owner"),
    seller=SingleSeller(ref="corner-tea", name="Corner Tea House", email="hello@cornertea.example", policy=POLICY),
    stages={Status.PAID: Stage.PENDING, Status.PACKING: Stage.ACCEPTED, Status.POSTED: Stage.SHIPPED,
            Status.DELIVERED: Stage.DELIVERED, Status.CANCELLED: Stage.CANCELLED},
    support_emails=lambda: db.session.scalars(sa.select(Member.email).where(Member.role == "owner")).all(),
    exchange_options=other_sizes,
    initiate_refund=record_till_refund,
    order_url=lambda number: url_for("corner.purchase", number=number),
    product_url=lambda tea_id: url_for("corner.tea", tea_id=tea_id),
    artist_url=lambda _: url_for("corner.returns_policy"),
))
