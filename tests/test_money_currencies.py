"""Amounts are rounded to each currency's own minor unit: no fractions of a yen, three decimals for a dinar.

The minor units themselves: ``tests/unit/test_money.py``.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from mirette_returns_plugin.demo.models import Shipment, ShopOrder, ShopOrderLine, db
from tests.flows import RecordingShop, fresh, shop_refunds, submit_line, take
from tests.pagekit import HTMX, client_as, text_of  # noqa: F401  (client_as: English pages)
from tests.shop import ALEX, BOIS, line_ref, order_ref

#: Alex's oak board from Bois & Fil, which keeps a 10% restocking fee when the
#: buyer changed their mind and refunds no delivery costs.
ORDER, BOARD = "MIR-2002", "Oak chopping board"


def _board_priced(currency: str, price: str) -> None:
    """Alex's order in ``currency``, the board at ``price``."""
    order = db.session.scalar(sa.select(ShopOrder).where(ShopOrder.number == ORDER))
    order.currency = currency
    board = db.session.get(ShopOrderLine, int(line_ref(ORDER, BOARD)))
    board.unit_price = Decimal(price)
    db.session.commit()
    shipment = db.session.get(Shipment, board.shipment_id)
    assert len(shipment.lines) == 1 and shipment.lines[0].quantity == 1


def _shown(text: str) -> str:
    # Babel's versions differ on the (no-break) space after a currency code.
    return re.sub(r"([A-Z]{3})\s+(?=\d)", r"\1", " ".join(text.split()))


@pytest.mark.parametrize(("currency", "price", "fee", "total", "shown_fee", "shown_total"), [
    # 10% of ¥4,505 is ¥450.5: a yen has no fraction, so the fee is ¥451.
    ("JPY", "4505", "451", "4054", "¥451", "¥4,054"),
    # 10% of 12.350 dinars is 1.235: the third decimal is kept, not rounded to 1.24.
    ("KWD", "12.35", "1.235", "11.115", "KWD1.235", "KWD11.115"),
])
def test_an_estimate_and_the_stored_refund_use_the_currency_minor_unit(
    app, client_as, currency, price, fee, total, shown_fee, shown_total
) -> None:
    with app.app_context():
        _board_priced(currency, price)
        order, line = order_ref(ORDER), line_ref(ORDER, BOARD)
    client = client_as(ALEX)

    estimate = client.get(f"/returns/orders/{order}/lines/{line}/preview?quantity=1&reason_code=changed_mind",
                          headers=HTMX)
    assert estimate.status_code == 200
    shown = _shown(text_of(estimate))
    assert f"Restocking fee−{shown_fee}" in shown, shown
    assert f"Total refund{shown_total}" in shown, shown

    with app.app_context():
        request_id = submit_line(buyer=ALEX, order=ORDER, product=BOARD).id
        stored = fresh(request_id)
        assert (stored.refund_items, stored.refund_restocking_fee, stored.refund_total) == (
            Decimal(price), Decimal(fee), Decimal(total))
        assert stored.currency == currency

    page = client.get(f"/returns/requests/{request_id}")
    assert page.status_code == 200
    shown = _shown(text_of(page))
    assert f"Restocking fee−{shown_fee}" in shown and f"Total refund{shown_total}" in shown, shown

    # The shop is asked for the amount in the currency's minor unit, no more decimals.
    with app.app_context():
        take(BOIS, request_id, "accept")
        take(BOIS, request_id, "receive")
        with shop_refunds(RecordingShop()) as shop:
            take(BOIS, request_id, "initiate_refund")
        [asked] = shop.calls
        assert (str(asked.amount), asked.currency) == (total, currency)
