"""Who is emailed about what: the routing table, and each flow of the help page.

On the tiny shop; the people are named here by their addresses, which is what
an email goes to.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import notifications, refunds, reminders, workflow
from mirette_returns_plugin.access import Role
from mirette_returns_plugin.emails import Event
from mirette_returns_plugin.errors import AdapterError, NotAllowed, ValidationError
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import HistoryEntry, Message, OutboxEmail, Refund, Request
from mirette_returns_plugin.state import current_state
from mirette_returns_plugin.workflow import TRANSITIONS, ReturnForm

from . import tiny_shop
from .steps import queued_emails, session
from .tiny_shop import line_ref

#: The people, by their addresses.
CAMILLE, ALEX, LUNE, BOIS, SUPPORT = (tiny_shop.PEOPLE[ref][1] for ref in (
    tiny_shop.CAMILLE, tiny_shop.ALEX, tiny_shop.LUNE, tiny_shop.BOIS, tiny_shop.SUPPORT))
REF_OF = {email: ref for ref, (_name, email, _artist) in tiny_shop.PEOPLE.items()}


def user(email: str):
    return current_state().adapter.user(REF_OF[email])


def order_ref(number: str) -> str:
    return number

pytestmark = pytest.mark.usefixtures("ctx")

B, A, S, SHOP, SYSTEM = Role.BUYER, Role.ARTIST, Role.SUPPORT, Role.SHOP, Role.SYSTEM

#: Actions written to the history by the workflow besides the table's steps.
HISTORY_ONLY = {"submit": {B}, "refund_initiated": {A, S, SHOP}, "refund_failed": {A, S},
                # The tick (reminders.py): a reminder to the silent party, or support called in.
                "remind_artist": {SYSTEM}, "remind_buyer": {SYSTEM}, "escalate": {SYSTEM}}

#: Who must hear of each (action, role of whoever took it): the expectation,
#: spelled out pair by pair, that the rows' ``told`` must meet.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("submit", B): {A},
    ("withdraw", B): {A},
    ("ship_back", B): {A},
    ("accept", A): {B},
    ("accept", S): {B, A},
    ("decline", A): {B},
    ("decline", S): {B, A},
    ("receive", A): {B},
    ("receive", S): {B, A},
    ("convert_to_refund", A): {B},
    ("convert_to_refund", S): {B, A},
    ("decide_refund", A): {B},
    ("decide_refund", S): {B, A},
    ("ship_replacement", A): {B},
    ("ship_replacement", S): {B, A},
    ("refuse_order", A): {B},
    ("refuse_order", S): {B, A},
    ("initiate_refund", A): {B},
    ("initiate_refund", S): {B},
    ("initiate_refund", SHOP): {B},
    ("refund_initiated", A): {B},
    ("refund_initiated", S): {B},
    ("refund_initiated", SHOP): {B},
    ("confirm_refund", SHOP): {B},
    ("confirm_refund", S): {B},
    ("refund_failed", A): {S},
    ("refund_failed", S): set(),
    ("retry_refund", A): set(),
    ("retry_refund", S): set(),
    ("escalate", B): {S, A},
    ("escalate", A): {S, B},
    ("escalate", SYSTEM): {S, B, A},
    ("remind_artist", SYSTEM): {A},
    ("remind_buyer", SYSTEM): {B},
    ("resolve_escalation", S): {B, A},
}

#: Who hears of a message, by its author's role.
EXPECTED_FOR_MESSAGES = {B: {A}, A: {B}, S: {B, A}}


#: Every row a history row may be written by: the table's, the workflow's own, the tick's.
STEPS = (*workflow.STEPS, *reminders.STEPS)


def _told(action: str) -> tuple[str, ...]:
    """Who the rows of ``action`` tell: the same people whatever the kind."""
    [told] = {step.told for step in STEPS if step.action == action}
    return told


def test_every_action_has_a_row():
    actions = {t.action for t in TRANSITIONS} | set(HISTORY_ONLY)
    assert {step.action for step in STEPS} == actions


def test_the_expectation_covers_every_step_and_every_role_allowed_to_take_it():
    pairs = {(t.action, role) for t in TRANSITIONS for role in t.roles}
    pairs |= {(action, role) for action, roles in HISTORY_ONLY.items() for role in roles}
    # initiate_refund is also written for the shop, when it confirms a refund
    # whose initiation it never reported.
    pairs.add(("initiate_refund", SHOP))
    assert set(EXPECTED) == pairs


@pytest.mark.parametrize(("action", "actor"), sorted(EXPECTED))
def test_route(action, actor):
    request = _request()
    entry = HistoryEntry(id=1, request_id=request.id, action=action, to_status="requested", actor_role=actor,
                         actor_ref={B: request.buyer_ref, A: "artist-person"}.get(actor, actor), actor_name="X")
    recipients = notifications.recipients_for(Event(request, entry), _told(action))
    assert {r.role for r in recipients} == EXPECTED[(action, actor)]
    if S in EXPECTED[(action, actor)]:
        assert SUPPORT in [r.address for r in recipients]


@pytest.mark.parametrize("author", sorted(EXPECTED_FOR_MESSAGES))
def test_message_route(author):
    request = _request()
    message = Message(id=1, request_id=request.id, author_role=author, author_ref="someone", author_name="X",
                      body="Hello")
    recipients = notifications.recipients_for(Event(request, message=message), notifications.MESSAGE_ROUTE)
    assert {r.role for r in recipients} == EXPECTED_FOR_MESSAGES[author]


def test_a_buyer_acting_in_another_role_is_not_emailed_about_it():
    # A support member who is also the buyer of this order answers as support.
    request = _request()
    entry = HistoryEntry(id=1, request_id=request.id, action="accept", to_status="accepted", actor_role=S,
                         actor_ref=request.buyer_ref, actor_name="Sam")
    recipients = notifications.recipients_for(Event(request, entry), _told("accept"))
    assert [r.role for r in recipients] == [A]


def test_one_address_holding_two_roles_gets_one_email(shop):
    request = _request(artist_ref=tiny_shop.LUNE)
    # The artist's address, as the shop knows it now, is the buyer's.
    shop.addresses[tiny_shop.LUNE] = "camille@buyers.example"
    entry = HistoryEntry(id=1, request_id=request.id, action="accept", to_status="accepted", actor_role=S,
                         actor_ref="support-person", actor_name="Sam")
    recipients = notifications.recipients_for(Event(request, entry), _told("accept"))
    assert [r.address for r in recipients] == ["camille@buyers.example"]


# --------------------------------------------------------------------------- #
# The flows of the help page, through the workflow
# --------------------------------------------------------------------------- #


def test_return_with_acceptance_refund_initiated_then_confirmed():
    request = _submit("MIR-1004", "Speckled mug")
    workflow.perform(user(LUNE), request.id, "accept", note="Send it back with the prepaid label.")
    workflow.perform(user(CAMILLE), request.id, "ship_back", tracking="LP123456789FR")
    workflow.perform(user(LUNE), request.id, "receive")
    workflow.perform(user(LUNE), request.id, "initiate_refund")
    refunds.confirm_refund(_refund_key(request), "PSP-1")

    assert queued_emails() == [
        ("submit", A, LUNE),
        ("accept", B, CAMILLE),
        ("ship_back", A, LUNE),
        ("receive", B, CAMILLE),
        ("initiate_refund", B, CAMILLE),
        ("confirm_refund", B, CAMILLE),
    ]
    _assert_nobody_told_of_their_own_action()


def test_refund_confirmed_by_the_shop_inside_its_hook_sends_both_emails(monkeypatch):
    from mirette_returns_plugin.adapter import RefundResult

    adapter = current_state().adapter
    monkeypatch.setattr(adapter, "initiate_refund", lambda order: RefundResult(reference="PSP-9", completed=True))
    request = _submit("MIR-1004", "Speckled mug")
    workflow.perform(user(LUNE), request.id, "accept", note="Send it back.")
    workflow.perform(user(LUNE), request.id, "receive")
    workflow.perform(user(LUNE), request.id, "initiate_refund")

    assert [e[0] for e in queued_emails() if e[1] == B] == ["accept", "receive", "initiate_refund",
                                                            "confirm_refund"]


def test_exchange_shipped():
    request = _submit("MIR-1004", "Speckled mug", kind="exchange")
    workflow.perform(user(LUNE), request.id, "accept", note="Send me the blue one back.")
    workflow.perform(user(LUNE), request.id, "receive")
    workflow.perform(user(LUNE), request.id, "ship_replacement", tracking="LP42")

    assert queued_emails() == [
        ("submit", A, LUNE),
        ("accept", B, CAMILLE),
        ("receive", B, CAMILLE),
        ("ship_replacement", B, CAMILLE),
    ]


def test_exchange_converted_to_a_refund():
    request = _submit("MIR-1004", "Speckled mug", kind="exchange")
    workflow.perform(user(LUNE), request.id, "accept", note="Send it back.")
    workflow.perform(user(LUNE), request.id, "convert_to_refund", note="The moss one costs more: reorder it.")

    assert [e[0] for e in queued_emails()] == ["submit", "accept", "convert_to_refund"]
    assert queued_emails()[-1][1:] == (B, CAMILLE)


def test_cancellation_refused_then_refunded_at_the_address_the_buyer_gave_and_her_own():
    contact = "camille.contact@example.org"
    [request] = workflow.request_cancellation(user(CAMILLE), order_ref("MIR-1001"), None,
                                              message="I ordered the wrong colour, please cancel.",
                                              contact_email=contact)
    workflow.perform(user(LUNE), request.id, "refuse_order")
    refunds.confirm_refund(_refund_key(request))

    # The opening message is quoted in the artist's one email, not sent twice;
    # the account's own address gets a copy of every email to the buyer. The
    # refusal's email says the refund is being initiated: the shop's answer
    # is not a second email in the same second.
    assert queued_emails() == [
        ("submit", A, LUNE),
        ("refuse_order", B, CAMILLE), ("refuse_order", B, contact),
        ("confirm_refund", B, CAMILLE), ("confirm_refund", B, contact),
    ]
    artist_email = _rows()[0]
    assert "I ordered the wrong colour, please cancel." in artist_email.body_text
    assert contact in artist_email.body_text


def test_cancel_everything_asks_each_artist_once():
    requests = workflow.request_cancellation(user(CAMILLE), order_ref("MIR-1002"), None,
                                             message="Please cancel it all.")
    assert len(requests) == 2
    assert sorted(queued_emails()) == [("submit", A, BOIS), ("submit", A, LUNE)]


def test_cancellation_declined():
    [request] = workflow.request_cancellation(user(CAMILLE), order_ref("MIR-1002"),
                                              [_artist_ref(BOIS)], message="Please cancel.")
    workflow.perform(user(BOIS), request.id, "decline", note="It left the workshop this morning.")

    assert queued_emails() == [("submit", A, BOIS), ("decline", B, CAMILLE)]
    assert "It left the workshop this morning." in _rows()[-1].body_text


def test_withdraw():
    request = _submit("MIR-1004", "Speckled mug")
    workflow.perform(user(CAMILLE), request.id, "withdraw")

    assert queued_emails() == [("submit", A, LUNE), ("withdraw", A, LUNE)]


def test_messages_both_ways_and_from_support():
    request = _submit("MIR-1004", "Speckled mug")
    workflow.post_message(user(CAMILLE), request.id, "Is the sand colour available instead?")
    workflow.post_message(user(LUNE), request.id, "Yes, I have two left.")
    workflow.post_message(user(SUPPORT), request.id, "Hello both, I am following this request.")

    assert queued_emails() == [
        ("submit", A, LUNE),
        ("message", A, LUNE),
        ("message", B, CAMILLE),
        ("message", B, CAMILLE),
        ("message", A, LUNE),
    ]


def test_escalation_and_its_resolution():
    request = _submit("MIR-1004", "Speckled mug")
    workflow.perform(user(CAMILLE), request.id, "escalate", note="No answer for a week.")
    workflow.perform(user(SUPPORT), request.id, "resolve_escalation", note="The artist answered.")

    assert queued_emails() == [
        ("submit", A, LUNE),
        ("escalate", S, SUPPORT),
        ("escalate", A, LUNE),
        ("resolve_escalation", B, CAMILLE),
        ("resolve_escalation", A, LUNE),
    ]


def test_support_acting_for_the_artist_tells_the_artist_too():
    request = _submit("MIR-1004", "Speckled mug")
    workflow.perform(user(SUPPORT), request.id, "accept", note="Send it to the workshop.")

    assert queued_emails()[1:] == [("accept", B, CAMILLE), ("accept", A, LUNE)]


def test_a_refund_the_shop_refuses_goes_to_support(monkeypatch):
    def refuse(order):
        raise AdapterError("The card was closed.")

    monkeypatch.setattr(current_state().adapter, "initiate_refund", refuse)
    request = _submit("MIR-1004", "Speckled mug")
    workflow.perform(user(LUNE), request.id, "accept", note="Send it back.")
    workflow.perform(user(LUNE), request.id, "receive")
    with pytest.raises(AdapterError):
        workflow.perform(user(LUNE), request.id, "initiate_refund")

    assert queued_emails()[-1] == ("refund_failed", S, SUPPORT)
    assert "The card was closed." in _rows()[-1].body_text


def test_a_refused_step_queues_nothing():
    request = _submit("MIR-1004", "Speckled mug")
    with pytest.raises(NotAllowed):
        workflow.perform(user(CAMILLE), request.id, "accept", note="I accept my own request")
    with pytest.raises(ValidationError):
        workflow.perform(user(LUNE), request.id, "accept", note="")

    assert queued_emails() == [("submit", A, LUNE)]


def test_an_event_is_never_queued_twice():
    request = _submit("MIR-1004", "Speckled mug")
    entry = session().scalar(sa.select(HistoryEntry).where(HistoryEntry.request_id == request.id))
    notifications.queue_for_history(session().get(Request, request.id), entry, workflow.SUBMIT)
    session().commit()

    assert queued_emails() == [("submit", A, LUNE)]


@pytest.mark.seeded_languages
def test_each_recipient_is_written_to_in_their_language():
    # Camille and Atelier Lune chose French, Alex and Bois & Fil English;
    # support has no language of its own: the shop's default.
    camille_request = _submit("MIR-1004", "Speckled mug")
    workflow.perform(user(LUNE), camille_request.id, "accept", note="Send it back.")
    workflow.perform(user(LUNE), camille_request.id, "receive")
    workflow.perform(user(LUNE), camille_request.id, "initiate_refund")
    alex_request = workflow.submit_return(user(ALEX), order_ref("MIR-2002"), ReturnForm(
        line_ref=line_ref("MIR-2002", "Oak chopping board"), quantity=1, kind="return", reason_code="changed_mind"))
    workflow.perform(user(BOIS), alex_request.id, "accept", note="Send it back.")
    workflow.perform(user(BOIS), alex_request.id, "receive")
    workflow.perform(user(BOIS), alex_request.id, "initiate_refund")
    workflow.perform(user(ALEX), alex_request.id, "escalate", note="Where is my money?")

    locales = {(row.recipient, row.locale) for row in _rows()}
    assert locales == {(LUNE, "fr"), (CAMILLE, "fr"), (BOIS, "en"), (ALEX, "en"), (SUPPORT, "en")}
    # Rendered under the recipient's locale: the amounts are written their way.
    camille_refund = _rows(recipient=CAMILLE)[-1]
    alex_refund = next(row for row in _rows(recipient=ALEX) if "Refund initiated" in row.subject)
    camille_total = f"{session().get(Request, camille_request.id).refund_total:.2f}".replace(".", ",")
    alex_total = f"{session().get(Request, alex_request.id).refund_total:.2f}"
    assert re.search(rf"{camille_total}\s€", camille_refund.body_text), camille_refund.body_text
    assert f"€{alex_total}" in alex_refund.body_text, alex_refund.body_text
    assert '<html lang="fr">' in camille_refund.body_html


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def _submit(number: str, product: str, *, kind: str = "return") -> Request:
    order, line = order_ref(number), line_ref(number, product)
    wanted = None
    if kind == "exchange":
        wanted = current_state().adapter.exchange_options(order, line)[0].ref
    return workflow.submit_return(user(CAMILLE), order, ReturnForm(
        line_ref=line, quantity=1, kind=kind, reason_code="changed_mind", wanted_ref=wanted))


def _request(**columns) -> Request:
    values = dict(id=1, kind="return", status="requested", order_ref="1", order_number="MIR-1004", artist_ref="1",
                  artist_name="Atelier Lune", artist_email=LUNE, artist_locale="fr", buyer_ref="buyer-1",
                  buyer_name="Camille Martin", buyer_email=CAMILLE, buyer_locale="fr", currency="EUR")
    values.update(columns)
    return Request(**values)


def _rows(recipient: str | None = None) -> list[OutboxEmail]:
    query = sa.select(OutboxEmail).order_by(OutboxEmail.id)
    if recipient:
        query = query.where(OutboxEmail.recipient == recipient)
    return [WrittenEmail(row) for row in session().scalars(query)]


def _refund_key(request: Request) -> str:
    return session().scalar(sa.select(Refund.idempotency_key).where(Refund.request_id == request.id))


def _artist_ref(email: str) -> str:
    return user(email).artist_ref


def _assert_nobody_told_of_their_own_action():
    history = {h.id: h for h in session().scalars(sa.select(HistoryEntry))}
    for row in _rows():
        event, role = row.event_key.split(":", 1)
        if event.startswith("history-"):
            assert history[int(event.split("-")[1])].actor_role != role, row.event_key


def test_a_language_written_another_way_or_unknown_still_emails():
    request = _request(buyer_locale="fr-FR", artist_locale="klingon")
    entry = HistoryEntry(id=1, request_id=request.id, action="escalate", to_status="requested", actor_role=S,
                         actor_ref="support-person", actor_name="Sam")
    recipients = notifications.recipients_for(Event(request, entry), (B, A))
    assert [(r.role, r.locale) for r in recipients] == [(B, "fr_FR"), (A, "en")]
