"""Believable seed data: buyers, artists with different policies, orders at every stage."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .models import Account, ArtistProfile, Product, Shipment, ShopOrder, ShopOrderLine, Variant, db

ARTISTS = [
    # name, email, language, craft, window, refunds delivery, return shipping paid by, restocking %, policy
    ("Atelier Lune", "lune@artists.example", "fr", "Hand-thrown stoneware", 14, True, "artist", "0",
     "Returns within 14 days of delivery. I refund delivery costs and send you a prepaid return label."),
    ("Bois & Fil", "boisetfil@artists.example", "en", "Woodwork and weaving", 30, False, "buyer", "10",
     "Returns within 30 days. Return shipping is at your expense; a 10% restocking fee applies to "
     "returns that are not faulty."),
    ("Verre Soufflé", "verre@artists.example", "fr", "Blown glass", 7, False, "buyer", "0",
     "Fragile pieces: tell me within 7 days of delivery. Delivery costs are not refunded."),
]

PRODUCTS = {
    "Atelier Lune": [
        ("Speckled mug", "mug.svg", "24.00", ["Sand", "Night blue", "Moss"]),
        ("Serving bowl", "bowl.svg", "58.00", ["Small", "Large"]),
        ("Espresso cup, studio second", "cup.svg", "12.00", []),
    ],
    "Bois & Fil": [
        ("Oak chopping board", "board.svg", "45.00", []),
        ("Woven linen scarf", "scarf.svg", "39.50", ["Ochre", "Indigo"]),
    ],
    "Verre Soufflé": [
        ("Blown glass vase", "vase.svg", "89.00", ["Clear", "Smoke"]),
        ("Tumbler set", "tumbler.svg", "36.00", []),
    ],
}

#: Studio seconds and the like: sold as they are, never returned.
FINAL_SALE = {"Espresso cup, studio second"}

DESCRIPTIONS = {
    "Speckled mug": "Thrown on the wheel in a small studio near Nantes, glazed in a speckled finish that "
                    "changes with the light. Holds 300 ml; dishwasher safe.",
    "Serving bowl": "A generous bowl for salads and shared dishes, with a soft unglazed foot ring. "
                    "Small: 20 cm across; large: 28 cm.",
    "Espresso cup, studio second": "A cup with a tiny glaze flaw that does not affect its use. "
                                   "Sold as a second: it cannot be returned.",
    "Oak chopping board": "Cut from a single piece of French oak, finished with linseed oil. "
                          "40 × 25 cm, with a juice groove on one side.",
    "Woven linen scarf": "Hand-woven on a wooden loom from washed linen, light enough for spring "
                         "evenings. 180 × 50 cm.",
    "Blown glass vase": "Mouth-blown, each one slightly different, with a heavy base that keeps tall "
                        "stems upright. 24 cm high.",
    "Tumbler set": "Four blown tumblers with a gentle twist, for water or lemonade. 250 ml each.",
}

BUYERS = [
    ("Camille Martin", "camille@buyers.example", "fr"),
    ("Alex Morgan", "alex@buyers.example", "en"),
]


def seed(now: datetime | None = None) -> None:
    """Fill an empty demo database."""
    now = now or datetime.now(timezone.utc)
    artists = {}
    for name, email, locale, craft, window, delivery, payer, fee, policy in ARTISTS:
        artist = ArtistProfile(name=name, email=email, craft=craft, return_window_days=window,
                               refunds_delivery=delivery, return_shipping_paid_by=payer,
                               restocking_fee_percent=Decimal(fee), policy_text=policy)
        db.session.add(artist)
        db.session.add(Account(name=name, email=email, locale=locale, artist=artist))
        artists[name] = artist
        for title, image, price, variants in PRODUCTS[name]:
            piece = Product(artist=artist, name=title, image=f"products/{image}", price=Decimal(price),
                            description=DESCRIPTIONS.get(title, f"{title} by {name}."),
                            final_sale=title in FINAL_SALE)
            db.session.add(piece)
            for variant in variants:
                db.session.add(Variant(product=piece, name=variant))
    db.session.add(Account(name="Sam from support", email="support@mirette.example", locale="en", is_support=True))
    buyers = []
    for name, email, locale in BUYERS:
        buyer = Account(name=name, email=email, locale=locale)
        db.session.add(buyer)
        buyers.append(buyer)
    db.session.flush()

    def product(artist: str, index: int) -> Product:
        return artists[artist].products[index]

    # Each part: the artist, the shipment's state, days since delivery, and its
    # lines as (product, quantity, index of the variant).
    def order(number: str, buyer: Account, days_ago: int,
              parts: list[tuple[str, str, int | None, list[tuple[Product, int, int | None]]]]) -> None:
        placed = now - timedelta(days=days_ago)
        shop_order = ShopOrder(number=number, buyer=buyer, placed_at=placed, currency="EUR")
        db.session.add(shop_order)
        for artist_name, state, delivered_days_ago, lines in parts:
            shipment = Shipment(order=shop_order, artist=artists[artist_name], state=state,
                                delivery_cost=Decimal("6.90"),
                                delivered_at=(now - timedelta(days=delivered_days_ago))
                                if delivered_days_ago is not None else None)
            db.session.add(shipment)
            for item, quantity, variant_index in lines:
                variant = item.variants[variant_index] if variant_index is not None and item.variants else None
                db.session.add(ShopOrderLine(shipment=shipment, product=item, variant=variant,
                                             quantity=quantity, unit_price=item.price))

    camille, alex = buyers
    lune, bois, verre = "Atelier Lune", "Bois & Fil", "Verre Soufflé"
    order("MIR-1001", camille, 1, [(lune, "paid", None, [(product(lune, 0), 2, 0)])])
    order("MIR-1002", camille, 2, [
        (lune, "paid", None, [(product(lune, 1), 1, 1)]),
        (bois, "paid", None, [(product(bois, 1), 1, 0)]),
        (verre, "accepted", None, [(product(verre, 1), 1, None)]),
    ])
    order("MIR-1003", camille, 6, [(bois, "shipped", None, [(product(bois, 0), 1, None),
                                                             (product(bois, 1), 2, 1)])])
    order("MIR-1004", camille, 12, [
        (lune, "delivered", 3, [(product(lune, 0), 4, 1), (product(lune, 1), 1, 0)]),
        (verre, "delivered", 2, [(product(verre, 0), 1, 0)]),
    ])
    order("MIR-1005", camille, 60, [(verre, "delivered", 50, [(product(verre, 1), 2, None)])])
    order("MIR-2001", alex, 3, [(verre, "paid", None, [(product(verre, 0), 1, 1)])])
    order("MIR-2002", alex, 9, [(lune, "delivered", 4, [(product(lune, 0), 3, 2)]),
                                (bois, "delivered", 4, [(product(bois, 0), 1, None)])])
    db.session.commit()
