"""How the demo shop connects to the plugin: the complete example adapter."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
from flask import session, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from .. import (
    AdapterError,
    Artist,
    ExchangeOption,
    Order,
    OrderLine,
    OrderPart,
    RefundOrder,
    RefundResult,
    ReturnPolicy,
    ReturnShippingPayer,
    Stage,
    User,
)
from .models import Account, ArtistProfile, PaymentRefund, Shipment, ShopOrder, ShopOrderLine, db
from .signed_in import current_account

#: The demo's shipment states, as the plugin's stages.
STAGES = {
    "paid": Stage.PENDING,
    "accepted": Stage.ACCEPTED,
    "shipped": Stage.SHIPPED,
    "delivered": Stage.DELIVERED,
    "cancelled": Stage.CANCELLED,
}


class DemoShopAdapter:
    """Reads the demo shop's tables and acts on them for the plugin."""

    def current_user(self) -> User | None:
        account = current_account()
        if account is None:
            return None
        return user_for(account, locale=session.get("locale"))

    def orders_for_buyer(self, buyer_ref: str) -> list[Order]:
        orders = db.session.scalars(
            _order_query().where(ShopOrder.buyer_id == _int(buyer_ref)).order_by(ShopOrder.placed_at.desc())
        ).all()
        return [_order(o) for o in orders]

    def get_order(self, order_ref: str) -> Order | None:
        order = db.session.scalar(_order_query().where(ShopOrder.id == _int(order_ref)))
        return _order(order) if order else None

    def get_order_for_buyer(self, order_ref: str, buyer_ref: str) -> Order | None:
        # The buyer in the query: someone else's order costs what an unknown one does.
        order = db.session.scalar(_order_query().where(ShopOrder.id == _int(order_ref),
                                                       ShopOrder.buyer_id == _int(buyer_ref)))
        return _order(order) if order else None

    def get_artist(self, artist_ref: str) -> Artist | None:
        artist = db.session.get(ArtistProfile, _int(artist_ref))
        if artist is None:
            return None
        policy = ReturnPolicy(
            window_days=artist.return_window_days,
            refunds_delivery_costs=artist.refunds_delivery,
            return_shipping_paid_by=ReturnShippingPayer(artist.return_shipping_paid_by),
            restocking_fee_percent=artist.restocking_fee_percent,
            text=artist.policy_text,
            url=self.artist_url(artist_ref),
        )
        account_locale = db.session.scalar(sa.select(Account.locale).where(Account.artist_id == artist.id))
        return Artist(ref=str(artist.id), name=artist.name, email=artist.email, policy=policy, locale=account_locale)

    def exchange_options(self, order_ref: str, line_ref: str) -> list[ExchangeOption]:
        line = db.session.get(ShopOrderLine, _int(line_ref))
        if line is None or line.shipment.order_id != _int(order_ref):
            return []
        return [
            ExchangeOption(ref=str(v.id), label=f"{line.product.name} – {v.name}",
                           unit_price=v.price if v.price is not None else line.product.price)
            for v in line.product.variants
            if v.id != line.variant_id
        ]

    def support_emails(self) -> list[str]:
        return list(db.session.scalars(sa.select(Account.email).where(Account.is_support)))

    def refuse_part(self, order_ref: str, artist_ref: str) -> None:
        # Same session as the plugin: this write commits with the plugin's.
        shipment = db.session.scalar(
            sa.select(Shipment)
            .where(Shipment.order_id == _int(order_ref), Shipment.artist_id == _int(artist_ref))
            .with_for_update()
        )
        if shipment is None:
            raise AdapterError(_("This order has no items from this artist."))
        if shipment.state != "paid":
            raise AdapterError(_("This part of the order was already processed; it cannot be refused."))
        shipment.state = "cancelled"

    def initiate_refund(self, refund: RefundOrder) -> RefundResult:
        # The demo has no payment provider: it records the refund once per
        # key, and a person marks it paid on the demo's Payments page.
        existing = db.session.scalar(
            sa.select(PaymentRefund).where(PaymentRefund.idempotency_key == refund.idempotency_key)
        )
        if existing is None:
            artist = db.session.get(ArtistProfile, _int(refund.artist_ref))
            existing = PaymentRefund(
                idempotency_key=refund.idempotency_key,
                order_id=_int(refund.order_ref),
                amount=refund.amount,
                currency=refund.currency,
                kind=refund.kind,
                artist=artist,
                created_at=datetime.now(timezone.utc),
            )
            db.session.add(existing)
            db.session.commit()
        return RefundResult(reference=f"demo-refund-{existing.id}", completed=existing.paid)

    def order_url(self, order_ref: str) -> str | None:
        return url_for("demo.order", order_id=_int(order_ref))

    def product_url(self, product_ref: str) -> str | None:
        return url_for("demo.product", product_id=_int(product_ref))

    def artist_url(self, artist_ref: str) -> str | None:
        return url_for("demo.artist", artist_id=_int(artist_ref))


def user_for(account: Account, *, locale: str | None = None) -> User:
    """The plugin's view of a shop account, with every role it holds."""
    return User(
        ref=str(account.id),
        name=account.name,
        email=account.email,
        locale=locale or account.locale,
        artist_ref=str(account.artist_id) if account.artist_id else None,
        is_support=account.is_support,
    )


def _int(ref: str) -> int:
    """The demo's integer id for a ref; -1 (found nowhere) for anything else.

    Refs come from URLs: a number too large for the column must find
    nothing rather than make the database refuse the query.
    """
    try:
        number = int(str(ref))
    except (TypeError, ValueError):
        return -1
    return number if 0 < number < 2**31 else -1


def _order_query() -> sa.Select[ShopOrder]:
    return sa.select(ShopOrder).options(
        selectinload(ShopOrder.buyer),
        selectinload(ShopOrder.shipments)
        .selectinload(Shipment.lines)
        .options(selectinload(ShopOrderLine.product), selectinload(ShopOrderLine.variant)),
    )


def _order(order: ShopOrder) -> Order:
    return Order(
        ref=str(order.id),
        number=order.number,
        buyer_ref=str(order.buyer_id),
        buyer_name=order.buyer.name,
        buyer_email=order.buyer.email,
        buyer_locale=order.buyer.locale,
        currency=order.currency,
        placed_at=order.placed_at,
        parts=tuple(
            OrderPart(
                artist_ref=str(s.artist_id),
                stage=STAGES[s.state],
                delivery_cost=s.delivery_cost or Decimal("0"),
                delivered_at=s.delivered_at,
                lines=tuple(
                    OrderLine(
                        ref=str(line.id),
                        product_ref=str(line.product_id),
                        product_name=line.product.name,
                        variant=line.variant.name if line.variant else None,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        currency=order.currency,
                        image_url=url_for("demo.static", filename=line.product.image) if line.product.image else None,
                        returnable=not line.product.final_sale,
                    )
                    for line in s.lines
                ),
            )
            for s in order.shipments
        ),
    )
