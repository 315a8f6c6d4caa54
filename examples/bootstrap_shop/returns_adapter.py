"""How Harbour Prints mounts mirette-returns: the mapping of docs/mount.md."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user

from mirette_returns_plugin import RefundOrder, RefundResult, ReturnPolicy, Stage
from mirette_returns_plugin.sqla_adapter import (
    LineMap, OrderMap, ProductMap, ShopMapping, SingleSeller, SQLAlchemyShopAdapter, UserMap, constant)

from . import payments
from .models import Order, OrderItem, PaymentStatus, Product, ShippingStatus, User

UNPAID, PAID = PaymentStatus.UNPAID, PaymentStatus.PAID

POLICY = ReturnPolicy(window_days=30, text="Prints in their original tube within 30 days. "
                      "Commissions are made for you and cannot be returned.")


def refund(order: RefundOrder) -> RefundResult:
    # Called again with the same key after a failure: the provider refunds once per key.
    reference = payments.refund(order.order_ref, order.amount, key=order.idempotency_key)
    return RefundResult(reference=reference, completed=False)  # the payment webhook confirms it


adapter = SQLAlchemyShopAdapter(ShopMapping(
    # No delivery date column: the return window counts from the order date.
    order=OrderMap(Order, ref="number", buyer_ref="user_id", placed_at="created_at", currency=constant("EUR"),
                   stage=lambda order: (order.payment_status, order.shipping_status),
                   delivery_cost="shipping_cost", paid="amount_paid"),
    line=LineMap(OrderItem, quantity="quantity", unit_price="price"),
    product=ProductMap(Product, name="title", returnable=lambda product: not product.made_to_order),
    users=UserMap(current=lambda: current_user, model=User, is_seller="is_staff", is_support="is_admin"),
    seller=SingleSeller(ref="studio", name="Harbour Prints", email="studio@harbourprints.example", policy=POLICY),
    stages={(UNPAID, ShippingStatus.NEW): Stage.PENDING, (PAID, ShippingStatus.NEW): Stage.PENDING,
            (PAID, ShippingStatus.PACKING): Stage.ACCEPTED, (PAID, ShippingStatus.SHIPPED): Stage.SHIPPED,
            (PAID, ShippingStatus.DELIVERED): Stage.DELIVERED, (UNPAID, ShippingStatus.CANCELLED): Stage.CANCELLED,
            (PAID, ShippingStatus.CANCELLED): Stage.CANCELLED},
    refuse_writes={"shipping_status": ShippingStatus.CANCELLED},
    initiate_refund=refund,
    order_url=lambda number: url_for("shop.order", number=number),
))
