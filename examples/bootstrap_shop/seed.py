"""A small, believable print shop: five prints, one commission, orders in every state."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache

from werkzeug.security import generate_password_hash

from .models import Order, OrderItem, PaymentStatus, Product, ShippingStatus, User, db

#: Every seeded person signs in with this password.
PASSWORD = "harbour-lights"

USERS = [
    # name, email, staff (answers as the shop), admin (support)
    ("Nora Lindqvist", "nora@buyers.example", False, False),
    ("Iris Calder", "iris@harbourprints.example", True, False),
    ("Milo Grant", "milo@harbourprints.example", False, True),
]

PRODUCTS = [
    # title, price, made to order
    ("Lighthouse at dusk, A3", "45.00", False),
    ("Fishing boats, A4", "28.00", False),
    ("Harbour map, A2", "60.00", False),
    ("Your house, painted", "180.00", True),
]


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # Hashing is slow on purpose; one hash serves every seeded person.
    return generate_password_hash(PASSWORD)


def seed(now: datetime | None = None) -> None:
    """Fill an empty shop."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
    users = {email: User(name=name, email=email, is_staff=staff, is_admin=admin, password_hash=_password_hash())
             for name, email, staff, admin in USERS}
    products = {title: Product(title=title, price=Decimal(price), made_to_order=made)
                for title, price, made in PRODUCTS}
    db.session.add_all([*users.values(), *products.values()])
    db.session.flush()

    def order(number: str, days_ago: int, payment: int, shipping: int, items: list[tuple[str, int]]) -> None:
        total = sum(products[title].price * quantity for title, quantity in items) + Decimal("6.50")
        row = Order(number=number, user_id=users["nora@buyers.example"].id, created_at=now - timedelta(days=days_ago),
                    payment_status=payment, shipping_status=shipping, shipping_cost=Decimal("6.50"),
                    amount_paid=total if payment == PaymentStatus.PAID else Decimal("0"))
        db.session.add(row)
        db.session.flush()
        for title, quantity in items:
            db.session.add(OrderItem(order_id=row.id, product_id=products[title].id, quantity=quantity,
                                     price=products[title].price))

    paid, unpaid = PaymentStatus.PAID, PaymentStatus.UNPAID
    order("HP-2001", 1, paid, ShippingStatus.NEW, [("Fishing boats, A4", 1)])
    order("HP-2002", 9, paid, ShippingStatus.SHIPPED, [("Lighthouse at dusk, A3", 2), ("Your house, painted", 1)])
    order("HP-2003", 0, unpaid, ShippingStatus.NEW, [("Harbour map, A2", 1)])
    # Shipped 40 days ago: past the 30 days, counted from the order date.
    order("HP-2004", 45, paid, ShippingStatus.SHIPPED, [("Fishing boats, A4", 1)])
    db.session.commit()
