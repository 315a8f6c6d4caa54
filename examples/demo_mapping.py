"""The demo marketplace described as a :class:`ShopMapping` instead of a hand-written adapter.

The demo mounts :class:`~mirette_returns_plugin.demo.adapter.DemoShopAdapter`,
written by hand against the Protocol. This is the same connection through the
ready adapter: ``tests/test_sqla_adapter.py`` checks that both give the plugin
exactly the same orders, artists, users and exchange options.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import session, url_for

from mirette_returns_plugin import ExchangeOption, ReturnPolicy, ReturnShippingPayer
from mirette_returns_plugin.demo.adapter import STAGES, DemoShopAdapter
from mirette_returns_plugin.demo.models import (
    Account, ArtistProfile, Product, Shipment, ShopOrder, ShopOrderLine, db)
from mirette_returns_plugin.sqla_adapter import (
    ArtistMap, LineMap, OrderMap, PartMap, ProductMap, ShopMapping, SQLAlchemyShopAdapter, UserMap)


def policy(artist: ArtistProfile) -> ReturnPolicy:
    return ReturnPolicy(window_days=artist.return_window_days, refunds_delivery_costs=artist.refunds_delivery,
                        return_shipping_paid_by=ReturnShippingPayer(artist.return_shipping_paid_by),
                        restocking_fee_percent=artist.restocking_fee_percent, text=artist.policy_text)


def locale_of(account: Account) -> str:
    # The language a signed-in person picked in the demo's menu wins over their profile's.
    chosen = session.get("locale") if account.id == session.get("account_id") else None
    return chosen or account.locale


def other_variants(line: ShopOrderLine) -> list[ExchangeOption]:
    product = line.product
    return [ExchangeOption(ref=str(v.id), label=f"{product.name} – {v.name}",
                           unit_price=v.price if v.price is not None else product.price)
            for v in product.variants if v.id != line.variant_id]


adapter = SQLAlchemyShopAdapter(ShopMapping(
    order=OrderMap(ShopOrder),
    parts=PartMap(Shipment, delivered_at="delivered_at", delivery_cost="delivery_cost"),
    line=LineMap(ShopOrderLine, order_ref=None, part_ref="shipment_id",
                 variant=lambda line: line.variant.name if line.variant else None),
    product=ProductMap(Product, returnable=lambda p: not p.final_sale,
                       image_url=lambda p: url_for("demo.static", filename=p.image) if p.image else None),
    artists=ArtistMap(ArtistProfile, policy=policy, locale=lambda artist: db.session.scalar(
        sa.select(Account.locale).where(Account.artist_id == artist.id))),
    users=UserMap(current=lambda: db.session.get(Account, session.get("account_id") or 0), model=Account,
                  locale=locale_of, artist_ref="artist_id", is_support="is_support"),
    stages=STAGES,
    exchange_options=other_variants,
    initiate_refund=DemoShopAdapter().initiate_refund,
    order_url=lambda ref: url_for("demo.order", order_id=ref),
    product_url=lambda ref: url_for("demo.product", product_id=ref),
    artist_url=lambda ref: url_for("demo.artist", artist_id=ref),
))
