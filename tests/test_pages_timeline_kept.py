"""A request's timeline is drawn once per version, language and time zone
and kept (mirette_returns_plugin.fragments): the page shows what it showed
drawing it every time, a change shows at once, and the page's own access
check alone decides who sees it."""

from __future__ import annotations

import re

from mirette_returns_plugin import workflow
from mirette_returns_plugin.state import current_state
from tests.pagekit import (
    another_app,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    in_english,
    parse,
)
from tests.shop import ALEX, BOIS, CAMILLE, LUNE, SUPPORT, line_ref, login, order_ref, user

#: The timeline's items, as the page writes them.
ITEMS = re.compile(r'<ol class="mr-timeline-items".*?</ol>', re.S)


def a_thread(app) -> int:
    """A return of Camille's mug to Lune, with a few messages and a step."""
    with app.test_request_context():
        mug = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="other",
            comment="The glaze is <b>odd</b> & uneven")).id
        workflow.post_message(user(LUNE), mug, "Could you send a photo?")
        workflow.post_message(user(CAMILLE), mug, "Here it is, \u202eexe.jpg")
        workflow.perform(user(LUNE), mug, "accept", note="Send it back, please.")
    return mug


def items_of(client, request_id: int) -> str:
    page = client.get(f"/returns/requests/{request_id}")
    assert page.status_code == 200
    return ITEMS.search(page.get_data(as_text=True)).group(0)


def test_a_kept_timeline_is_the_timeline_drawn_afresh(app, app_config, client_as):
    mug = a_thread(app)
    with another_app({**app_config, "MIRETTE_RETURNS_FRAGMENT_CACHE_BYTES": 0}) as uncached:
        afresh = {who: items_of(in_english(login(uncached.test_client(), who)), mug) for who in (CAMILLE, LUNE)}
        with uncached.app_context():
            assert len(current_state().fragments) == 0
    first = items_of(client_as(CAMILLE), mug)
    with app.app_context():
        kept = len(current_state().fragments)
    # The artist and support read the same kept items, drawn for the buyer.
    assert items_of(client_as(LUNE), mug) == items_of(client_as(SUPPORT), mug) == first == afresh[LUNE]
    assert first == afresh[CAMILLE]
    with app.app_context():
        assert len(current_state().fragments) == kept
    shown = parse(first).text
    assert "Could you send a photo?" in shown and "Send it back, please." in shown
    assert "\u202e" not in first  # the override is still removed from a kept piece


def test_a_message_and_a_step_show_at_once(app, client_as):
    mug = a_thread(app)
    buyer = client_as(CAMILLE)
    assert "It is in the post" not in items_of(buyer, mug)
    with app.test_request_context():
        workflow.post_message(user(LUNE), mug, "It is in the post")
    assert "It is in the post" in parse(items_of(buyer, mug)).text
    with app.test_request_context():
        workflow.perform(user(CAMILLE), mug, "ship_back", tracking="6A 2291 4410 7")
    newest = parse(items_of(buyer, mug)).find("li")
    assert "sent the item back · new status: Sent back" in newest.text


def test_a_kept_timeline_is_shown_only_to_who_may_see_the_request(app, client_as):
    mug = a_thread(app)
    assert "Could you send a photo?" in items_of(client_as(CAMILLE), mug)
    with app.app_context():
        assert len(current_state().fragments) >= 1
    for stranger in (ALEX, BOIS):
        refused = client_as(stranger).get(f"/returns/requests/{mug}")
        assert refused.status_code == 404
        assert "Could you send a photo?" not in refused.get_data(as_text=True)


def test_a_timeline_kept_in_one_language_is_drawn_again_in_another(app, client_as):
    mug = a_thread(app)
    assert "new status: Accepted" in parse(items_of(client_as(LUNE), mug)).text
    french = login(app.test_client(), LUNE)
    with french.session_transaction() as session:
        session["locale"] = "fr"
    shown = parse(items_of(french, mug)).text
    assert "nouveau statut" in shown and "new status" not in shown
    # And the English reader still reads English.
    assert "new status: Accepted" in parse(items_of(client_as(CAMILLE), mug)).text
