"""The refund estimate follows the reason: no restocking fee when the artist is at fault."""

from __future__ import annotations

from tests.pagekit import HTMX, client_as, text_of  # noqa: F401  (client_as: English pages)
from tests.shop import ALEX, line_ref, order_ref


def _estimate(client, order: str, line: str, reason: str) -> str:
    url = f"/returns/orders/{order}/lines/{line}/preview?quantity=1&reason_code={reason}"
    response = client.get(url, headers=HTMX)
    assert response.status_code == 200
    return text_of(response)


def test_bois_et_fil_keeps_its_fee_for_a_change_of_mind_but_not_for_a_damaged_board(app, client_as):
    client = client_as(ALEX)
    with app.app_context():
        order, line = order_ref("MIR-2002"), line_ref("MIR-2002", "Oak chopping board")

    changed_mind = _estimate(client, order, line, "changed_mind")
    damaged = _estimate(client, order, line, "damaged")

    # Bois & Fil keeps 10% of €45.00 on returns that are not faulty.
    assert "€4.50" in changed_mind and "€40.50" in changed_mind
    assert "€4.50" not in damaged and "€45.00" in damaged
