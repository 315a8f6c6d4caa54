"""A small, believable shop: three teas, a teapot, gift cards, orders at every stage."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

from werkzeug.security import generate_password_hash

from .models import Member, Purchase, PurchaseLine, Status, Tea, db

#: Every seeded member signs in with this password.
PASSWORD = "tea-for-two"

MEMBERS = [
    # name, email, role, language
    ("Ada Brennan", "ada@customers.example", "customer", "en"),
    ("Bastien Roux", "bastien@customers.example", "customer", "fr"),
    ("Priya Shah", "priya@cornertea.example", "staff", "en"),
    ("Margaret Corner", "margaret@cornertea.example", "owner", "en"),
]

TEAS = [
    # title, blurb, price in pence, sizes, gift card, colour
    ("Assam Breakfast", "Malty and brisk; takes milk well.", 450, "50 g,100 g,250 g", False, "#8a4b2a"),
    ("Darjeeling First Flush", "Light, floral, picked in March.", 890, "50 g,100 g", False, "#b08d3c"),
    ("Gyokuro", "Shade-grown green tea, sweet and deep.", 1250, "50 g", False, "#4f7a3a"),
    ("Cast-iron teapot", "0.8 litre, enamelled inside.", 3900, "", False, "#333d47"),
    ("Gift card", "For someone who deserves a good cup.", 2500, "", True, "#c2536b"),
]


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # Hashing is slow on purpose; one hash serves every seeded member.
    return generate_password_hash(PASSWORD)


def seed(now: datetime | None = None) -> None:
    """Fill an empty shop."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
    members = {}
    for name, email, role, language in MEMBERS:
        members[email] = Member(full_name=name, email=email, role=role, language=language,
                                password_hash=_password_hash())
        db.session.add(members[email])
    teas = {}
    for title, blurb, price, sizes, gift, colour in TEAS:
        teas[title] = Tea(title=title, blurb=blurb, price_pence=price, sizes=sizes, is_gift_card=gift, colour=colour)
        db.session.add(teas[title])
    db.session.flush()

    def purchase(number: str, email: str, status: int, days_ago: int, delivered_days_ago: int | None,
                 lines: list[tuple[str, str | None, int]]) -> None:
        placed = now - timedelta(days=days_ago)
        row = Purchase(number=number, member_id=members[email].id, status=status, placed_at=placed,
                       postage_pence=395, delivered_at=(now - timedelta(days=delivered_days_ago)
                                                        if delivered_days_ago is not None else None))
        db.session.add(row)
        db.session.flush()
        for title, size, qty in lines:
            db.session.add(PurchaseLine(purchase_id=row.id, tea_id=teas[title].id, size=size, qty=qty,
                                        price_pence=teas[title].price_pence))

    ada, bastien = "ada@customers.example", "bastien@customers.example"
    purchase("CT-1041", ada, Status.PAID, 1, None, [("Darjeeling First Flush", "100 g", 2)])
    purchase("CT-1042", ada, Status.DELIVERED, 8, 3, [("Assam Breakfast", "100 g", 3), ("Cast-iron teapot", None, 1),
                                                      ("Gift card", None, 1)])
    purchase("CT-1043", ada, Status.POSTED, 4, None, [("Gyokuro", "50 g", 1)])
    purchase("CT-1044", bastien, Status.PACKING, 2, None, [("Assam Breakfast", "250 g", 1)])
    purchase("CT-1045", ada, Status.DELIVERED, 60, 45, [("Darjeeling First Flush", "50 g", 1)])
    purchase("CT-1046", bastien, Status.DELIVERED, 6, 2, [("Gyokuro", "50 g", 2)])
    db.session.commit()
