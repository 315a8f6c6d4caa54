"""A legal floor for return windows: ``MIRETTE_RETURNS_MINIMUM_RETURN_DAYS``,
as the buyer reads it (the rule itself: ``tests/unit/test_windows.py``).

Atelier Lune's policy gives 7 days here; the shop sells in the EU and sets the
14-day withdrawal period for distance sales. Camille's mugs (MIR-1004) are
delivered 10 or 15 days ago.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from mirette_returns_plugin.demo.models import Account, ArtistProfile, Shipment, ShopOrder, db
from mirette_returns_plugin.models import RequestKind
from tests import flows
from tests.i18nkit import spaces
from tests.pagekit import client_as, parse  # noqa: F401  (client_as: English pages)
from tests.shop import CAMILLE, LUNE, VERRE, account, order_ref

LEGAL_SENTENCE = "14 days after delivery (the legal minimum; the artist's policy says 7)"
FRENCH_SENTENCE = "14 jours après la livraison (le minimum légal ; la politique de l'artiste en prévoit 7)"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "MIRETTE_RETURNS_MINIMUM_RETURN_DAYS": 14}


def lune_gives(days: int | None, *, delivered_days_ago: int) -> None:
    """Atelier Lune's window, and when her part of MIR-1004 was delivered."""
    lune = db.session.get(ArtistProfile, account(LUNE).artist_id)
    lune.return_window_days = days
    shipment = db.session.scalar(sa.select(Shipment).join(ShopOrder).where(
        ShopOrder.number == "MIR-1004", Shipment.artist_id == lune.id))
    shipment.delivered_at = datetime.now(timezone.utc) - timedelta(days=delivered_days_ago)
    db.session.commit()


def test_the_buyer_reads_which_window_applies(app, client_as):
    with app.test_request_context():
        lune_gives(7, delivered_days_ago=10)
        db.session.get(ArtistProfile, account(VERRE).artist_id).return_window_days = 30
        db.session.commit()
        order = order_ref("MIR-1004")
    page = parse(client_as(CAMILLE).get(f"/returns/orders/{order}"))
    windows = [spaces(node.text) for node in page.find_all("dd", class_="mr-policy-window")]
    # Atelier Lune's part says the legal minimum; Verre Soufflé's longer window is the artist's own.
    assert LEGAL_SENTENCE in windows
    assert "30 days after delivery (the artist's policy)" in windows

    with app.test_request_context():
        request_id = flows.submit_line(RequestKind.RETURN).id
        # Later edits of the policy or the floor never change what the request was sent under.
        lune_gives(30, delivered_days_ago=10)
    details = parse(client_as(CAMILLE).get(f"/returns/requests/{request_id}"))
    assert spaces(details.find("dd", class_="mr-policy-window").text) == LEGAL_SENTENCE


@pytest.mark.seeded_languages
def test_the_legal_minimum_sentence_in_french(app, client_as):
    from tests.shop import login

    with app.test_request_context():
        lune_gives(7, delivered_days_ago=10)
        order = order_ref("MIR-1004")
        db.session.execute(sa.update(Account).where(Account.email == CAMILLE).values(locale="fr"))
        db.session.commit()
    client = login(app.test_client(), CAMILLE)
    with client.session_transaction() as session:
        session["locale"] = "fr"
    page = parse(client.get(f"/returns/orders/{order}"))
    windows = [spaces(node.text) for node in page.find_all("dd", class_="mr-policy-window")]
    assert FRENCH_SENTENCE in windows
