"""Return windows under a legal floor (``MIRETTE_RETURNS_MINIMUM_RETURN_DAYS``):
the rule, and what a request is allowed and frozen with.

Atelier Lune's policy gives 7 days here; the shop sells in the EU and sets the
14-day withdrawal period for distance sales. Camille's mugs (MIR-1004) are
delivered 10 or 15 days ago. What the buyer reads of it is in
``tests/test_legal_minimum_window.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask

from mirette_returns_plugin.errors import ConfigurationError, NotAllowed
from mirette_returns_plugin.extension import read_config
from mirette_returns_plugin.models import RequestKind
from mirette_returns_plugin.windows import applicable_window

from . import steps
from .tiny_shop import LUNE, TinyShop


@pytest.fixture
def unit_config(unit_config: dict) -> dict:
    return {**unit_config, "MIRETTE_RETURNS_MINIMUM_RETURN_DAYS": 14}


def lune_gives(shop: TinyShop, days: int | None, *, delivered_days_ago: int) -> None:
    """Atelier Lune's window, and when her part of MIR-1004 was delivered."""
    shop.set_policy(LUNE, window_days=days)
    shop.part("MIR-1004", LUNE).delivered_at = datetime.now(timezone.utc) - timedelta(days=delivered_days_ago)


def test_the_rule():
    raised = applicable_window(7, 14)
    assert (raised.days, raised.artist_days, raised.is_legal_minimum) == (14, 7, True)
    longer = applicable_window(30, 14)
    assert (longer.days, longer.is_legal_minimum) == (30, False)
    unlimited = applicable_window(None, 14)
    assert (unlimited.days, unlimited.is_legal_minimum) == (None, False)
    no_floor = applicable_window(7, 0)
    assert (no_floor.days, no_floor.is_legal_minimum) == (7, False)


def test_a_seven_day_policy_allows_a_return_on_day_ten_and_freezes_the_floor(ctx, shop):
    lune_gives(shop, 7, delivered_days_ago=10)
    request = steps.submit_line(RequestKind.RETURN)
    fresh = steps.fresh(request.id)
    assert (fresh.policy_window_days, fresh.policy_minimum_window_days) == (7, 14)


def test_it_is_refused_on_day_fifteen_with_the_window_that_applied(ctx, shop):
    lune_gives(shop, 7, delivered_days_ago=15)
    with pytest.raises(NotAllowed) as refused:
        steps.submit_line(RequestKind.RETURN)
    assert refused.value.message.startswith("The return period of 14 days ended on ")
    assert steps.count_requests() == 0


def test_without_the_floor_day_ten_is_too_late(ctx, app, shop):
    app.extensions["mirette_returns"].config["MINIMUM_RETURN_DAYS"] = 0
    lune_gives(shop, 7, delivered_days_ago=10)
    with pytest.raises(NotAllowed) as refused:
        steps.submit_line(RequestKind.RETURN)
    assert refused.value.message.startswith("The return period of 7 days ended on ")


def test_a_final_sale_is_still_refused_with_its_reason(ctx, shop):
    lune_gives(shop, 7, delivered_days_ago=2)
    shop.final_sale.add("Speckled mug")
    with pytest.raises(NotAllowed) as refused:
        steps.submit_line(RequestKind.RETURN)
    assert refused.value.message == "This item is a final sale: it cannot be returned or exchanged."


@pytest.mark.parametrize("value", [-1, "14", 7.5, True])
def test_a_minimum_that_is_not_a_number_of_days_is_refused_at_mount(value):
    app = Flask(__name__)
    app.config["MIRETTE_RETURNS_MINIMUM_RETURN_DAYS"] = value
    with pytest.raises(ConfigurationError) as refused:
        read_config(app)
    assert "MIRETTE_RETURNS_MINIMUM_RETURN_DAYS" in str(refused.value)
