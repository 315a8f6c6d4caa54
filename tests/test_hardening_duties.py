"""Separation of duties: on a request they bought, a person acts only as its buyer.

Camille buys a mug from Atelier Lune. In one test she is also on the support
team, in another she is also Atelier Lune's artist. At every status where the
artist or support would act (accept, receive, initiate the refund, confirm
it), her own page offers her the buyer's steps only, and a post of the step
anyway is refused with a message saying why, with nothing changed.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import HistoryEntry, Refund, Request
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    parse,
    text_of,
)
from tests.shop import CAMILLE, LUNE, SUPPORT, account, mug_return, user

OWN_PURCHASE = "You bought this order, so on this request you act only as its buyer"

#: The buyer's own steps on a return, at the statuses walked below.
BUYER_STEPS = {"withdraw", "ship_back", "escalate"}


def _grant(app, what: str) -> None:
    with app.app_context():
        camille = account(CAMILLE)
        if what == "support":
            camille.is_support = True
        else:
            camille.artist_id = account(LUNE).artist_id
        db.session.commit()


def _state(app, request_id: int) -> tuple:
    with app.app_context():
        request = db.session.get(Request, request_id)
        steps = db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEntry)
                                  .where(HistoryEntry.request_id == request_id))
        refunds = db.session.scalar(sa.select(sa.func.count()).select_from(Refund))
        found = (request.status, request.version, steps, refunds)
        db.session.remove()
        return found


def _offered_steps(client, request_id: int) -> set[str]:
    page = parse(client.get(f"/returns/requests/{request_id}"))
    return {form.get("id").removeprefix("mr-action-") for form in page.find_all("form", class_="mr-action")}


def _move(app, request_id: int, action: str, as_email: str) -> None:
    """The real artist or support takes the step that leads to the next status."""
    with app.test_request_context():
        workflow.perform(user(as_email), request_id, action, note="Done by the real team")
        db.session.remove()


@pytest.mark.parametrize("also", ["support", "artist"])
def test_a_buyer_who_is_also_support_or_artist_never_moves_her_own_return(app, client_as, also):
    _grant(app, also)
    request_id = mug_return(app)
    camille = client_as(CAMILLE)
    # (status reached, the team's step Camille tries there, who really takes it)
    walk = [("requested", "accept", LUNE), ("accepted", "receive", LUNE),
            ("received", "initiate_refund", LUNE), ("refund_initiated", "confirm_refund", SUPPORT)]
    for status, step, team_member in walk:
        assert _state(app, request_id)[0] == status
        offered = _offered_steps(camille, request_id)
        assert offered <= BUYER_STEPS, (status, offered)
        before = _state(app, request_id)
        with app.app_context():
            version = db.session.get(Request, request_id).version
            db.session.remove()
        for headers in ({}, HTMX):
            response = camille.post(f"/returns/requests/{request_id}/actions/{step}",
                                    data={"version": str(version), "note": "My own", "confirm": "1"},
                                    headers=headers)
            assert response.status_code == 403, (step, response.status_code)
            assert OWN_PURCHASE in text_of(response), (step, text_of(response)[:300])
        assert _state(app, request_id) == before, f"a refused {step} changed the request"
        _move(app, request_id, step, team_member)
    assert _state(app, request_id)[0] == "refunded"


def test_the_workflow_refuses_her_too_and_her_message_is_the_buyers(app, client_as):
    _grant(app, "support")
    request_id = mug_return(app)
    with app.test_request_context():
        with pytest.raises(workflow.NotAllowed, match=OWN_PURCHASE):
            workflow.perform(user(CAMILLE), request_id, "accept", note="Accepting my own")
        message = workflow.post_message(user(CAMILLE), request_id, "Any news?")
        assert message.author_role == "buyer"
        db.session.remove()
    page = text_of(client_as(CAMILLE).get(f"/returns/requests/{request_id}"))
    assert "Write to Atelier Lune" in page and "Write in this thread as the support team" not in page
