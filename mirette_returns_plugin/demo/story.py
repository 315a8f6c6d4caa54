"""A few requests already under way when the demo starts.

So that an artist's inbox, the mailbox and the payments page have something
in them from the first click. Everything here goes through the plugin's
public workflow, as the pages would, on orders of its own (the orders of
:mod:`.seed` stay untouched for the tests that rely on them).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa

from .. import ReturnForm, perform, post_message, request_cancellation, submit_return
from .adapter import user_for
from .models import Account, ArtistProfile, PaymentRefund, Product, Shipment, ShopOrder, ShopOrderLine, db
from .payments import mark_paid

#: The story's orders, all Alex's.
STORY_ORDERS = ("MIR-2003", "MIR-2004", "MIR-2005")


def tell_story(now: datetime | None = None) -> None:
    """Add the story's orders and move their requests along. Needs a request context."""
    now = now or datetime.now(timezone.utc)
    alex = _account("alex@buyers.example")
    lune, bois, verre = (_account(email) for email in
                         ("lune@artists.example", "boisetfil@artists.example", "verre@artists.example"))
    buyer = user_for(alex)

    # An exchange of a scarf for another colour, sent back and on its way.
    scarf = _order("MIR-2003", alex, now, days_ago=8, artist=bois.artist, state="delivered", delivered_days_ago=6,
                   lines=[("Woven linen scarf", "Indigo", 1)])
    exchange = submit_return(buyer, str(scarf.id), ReturnForm(
        line_ref=_line(scarf, "Woven linen scarf"), quantity=1, kind="exchange", reason_code="changed_mind",
        comment="The indigo is much darker than on my screen. Could I have the ochre one instead?",
        wanted_ref=_variant_ref("Woven linen scarf", "Ochre"),
    ))
    exchange = perform(user_for(bois), exchange.id, "accept", version=exchange.version, note=(
        "Of course! Please send the scarf back to Bois & Fil, 12 rue des Tanneurs, 69001 Lyon, "
        "folded in its tissue paper. I will post the ochre one the day it arrives."))
    post_message(buyer, exchange.id, "Thank you! It leaves tomorrow morning.")
    perform(buyer, exchange.id, "ship_back", version=exchange.version, tracking="6A 2291 4410 7")

    # A return of a bowl that was too large: received, refund waiting for the
    # payment provider (the Payments page). The studio second cannot be returned.
    bowl = _order("MIR-2004", alex, now, days_ago=10, artist=lune.artist, state="delivered", delivered_days_ago=5,
                  lines=[("Serving bowl", "Large", 1), ("Espresso cup, studio second", None, 2)])
    returned = submit_return(buyer, str(bowl.id), ReturnForm(
        line_ref=_line(bowl, "Serving bowl"), quantity=1, kind="return", reason_code="wrong_size",
        comment="Lovely, but far too large for our little table.",
    ))
    returned = perform(user_for(lune), returned.id, "accept", version=returned.version, note=(
        "No problem. I have emailed you a prepaid label: wrap the bowl in plenty of paper and drop it at "
        "any post office."))
    returned = perform(buyer, returned.id, "ship_back", version=returned.version,
                                tracking="LP 4821 5530 FR")
    returned = perform(user_for(lune), returned.id, "receive", version=returned.version,
                                note="Arrived safe and sound.")
    perform(user_for(lune), returned.id, "initiate_refund", version=returned.version)

    # An order placed twice by mistake: cancelled before processing, refunded.
    tumblers = _order("MIR-2005", alex, now, days_ago=1, artist=verre.artist, state="paid", delivered_days_ago=None,
                      lines=[("Tumbler set", None, 1)])
    (cancellation,) = request_cancellation(
        buyer, str(tumblers.id), [str(verre.artist_id)],
        message="I ordered these twice by mistake, sorry! Could you cancel this one (MIR-2005)?",
    )
    perform(user_for(verre), cancellation.id, "refuse_order", version=cancellation.version,
                     note="No worries, it is cancelled.")
    mark_paid(db.session.scalars(sa.select(PaymentRefund).where(PaymentRefund.order_id == tumblers.id)).one())


def _account(email: str) -> Account:
    return db.session.scalars(sa.select(Account).where(Account.email == email)).one()


def _order(number: str, buyer: Account, now: datetime, *, days_ago: int, artist: ArtistProfile | None, state: str,
           delivered_days_ago: int | None, lines: list[tuple[str, str | None, int]]) -> ShopOrder:
    order = ShopOrder(number=number, buyer=buyer, placed_at=now - timedelta(days=days_ago), currency="EUR")
    delivered_at = now - timedelta(days=delivered_days_ago) if delivered_days_ago is not None else None
    shipment = Shipment(order=order, artist=artist, state=state, delivery_cost=Decimal("6.90"),
                        delivered_at=delivered_at)
    db.session.add_all([order, shipment])
    for name, variant_name, quantity in lines:
        product = db.session.scalars(sa.select(Product).where(Product.name == name)).one()
        variant = next((v for v in product.variants if v.name == variant_name), None)
        db.session.add(ShopOrderLine(shipment=shipment, product=product, variant=variant, quantity=quantity,
                                     unit_price=product.price))
    db.session.commit()
    return order


def _line(order: ShopOrder, product_name: str) -> str:
    return str(next(line.id for shipment in order.shipments for line in shipment.lines
                    if line.product.name == product_name))


def _variant_ref(product_name: str, variant_name: str) -> str:
    product = db.session.scalars(sa.select(Product).where(Product.name == product_name)).one()
    return str(next(v.id for v in product.variants if v.name == variant_name))
