"""What each step tells whom, in words that fit the request: generated from the table.

For every row of ``workflow.TRANSITIONS``, every kind it applies to, every
status it starts from and (for returns and exchanges) a reason the buyer may
give, a fresh request is driven there and the step is taken by the support
team where it may (then both the buyer and the artist are told), else by the
role that may. Then, for every email the step queued and for the request's
page as the buyer and the artist see it:

- each email reaches someone the row tells (never whoever took the step),
  under the row's subject (or the new status's words), and the timeline
  shows the row's sentence;
- one step never emails the same address twice (a refused cancellation once
  said "Order refused - refund initiated" then "Refund initiated");
- an exchange is never a "reimbursement": the buyer asked for another item;
- an item returned damaged, wrong or non-compliant is never "in good
  condition", in the buttons, the emails, the timeline or the refund box;
- an exchange whose replacement was shipped shows no refund box.
"""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import refunds, workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.domain import RequestKind, Role
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import HistoryEntry, OutboxEmail, Refund
from mirette_returns_plugin.state import current_state
from tests import flows
from tests.fixtures_mail import queued_emails
from tests.pagekit import parse

#: The reasons of each kind: one the seller is not at fault for, and the
#: seller-fault ones whose words differ.
REASONS = {
    RequestKind.RETURN: ("changed_mind", "damaged", "wrong_product"),
    RequestKind.EXCHANGE: ("changed_mind", "damaged", "wrong_product"),
    RequestKind.CANCELLATION: (None,),
}

CASES = [
    pytest.param(case, reason, id=f"{case}-{reason}" if reason else str(case))
    for case in flows.cases()
    for reason in REASONS[case.start_kind]
]


def _actor_role(transition: workflow.Transition) -> str:
    if Role.SUPPORT in transition.roles:
        return Role.SUPPORT
    return next(r for r in flows.DRIVING_ROLES if r in transition.roles)


def _drive(monkeypatch, case: flows.Case, reason: str | None) -> int:
    if case.start_kind != RequestKind.CANCELLATION:
        photos = [flows.photo()] if reason != "changed_mind" else []
        monkeypatch.setattr(flows, "submit",
                            lambda kind: flows.submit_line(kind, reason=reason, photos=photos))
    return flows.drive(case)


def _emails_after(last_id: int) -> list[WrittenEmail]:
    """The emails queued since ``last_id``, written as the worker writes them."""
    return [WrittenEmail(row) for row in
            db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.id > last_id).order_by(OutboxEmail.id))]


def _wrong_words(kind: str, seller_fault: bool, text: str) -> list[str]:
    """The words that do not fit a request of ``kind`` with such a reason."""
    wrong = []
    lowered = text.lower()
    if kind == RequestKind.EXCHANGE and "reimburse" in lowered:
        wrong.append("reimbursement of an exchange")
    if seller_fault and "good condition" in lowered:
        wrong.append("'good condition' of a damaged or wrong item")
    return wrong


@pytest.mark.parametrize(("case", "reason"), CASES)
def test_each_step_tells_each_person_once_in_words_that_fit(app, ctx, client_as, monkeypatch, case, reason):
    request_id = _drive(monkeypatch, case, reason)
    seller_fault = bool(reason) and current_state().reasons.get(reason).seller_fault
    request = flows.fresh(request_id)
    # The buttons offered before the step already fit the request.
    for email in (flows.LUNE, flows.SUPPORT, flows.CAMILLE):
        for transition, _role in workflow.available_actions(flows.as_user(email), request):
            label = workflow.action_label(transition, request)
            assert not _wrong_words(request.kind, seller_fault, label), label
    last = db.session.scalar(sa.select(sa.func.max(OutboxEmail.id))) or 0

    flows.take(flows.PERSON_FOR_ROLE[_actor_role(case.transition)], request_id, case.action)

    emails = _emails_after(last)
    addresses = Counter(row.recipient for row in emails)
    assert all(count == 1 for count in addresses.values()), [(r.recipient, r.subject) for r in emails]
    request = flows.fresh(request_id)
    for row in emails:
        wrong = _wrong_words(request.kind, seller_fault, f"{row.subject}\n{row.body_text}")
        assert not wrong, (wrong, row.recipient, row.subject, row.body_text)
        # What the email says and whom it reaches are the row's.
        event, role = row.event_key.split(":", 1)
        entry = db.session.get(HistoryEntry, int(event.removeprefix("history-")))
        step = workflow.step_named(entry.action, request.kind)
        said = step.words_for(request, entry)
        assert role.split("-")[0] in step.told and role.split("-")[0] != entry.actor_role, (row.event_key, step.told)
        what = said.subject or workflow.status_label(entry.to_status, request.kind)
        assert row.subject.endswith(what), (row.subject, what)
    own_rows = [h for h in flows.history(request_id) if h.action == case.action]
    said = case.transition.words_for(request, own_rows[-1] if own_rows else None)
    for email in (flows.CAMILLE, flows.LUNE):
        page = parse(client_as(email).get(f"/returns/requests/{request_id}"))
        text = " ".join(page.by_id("mr-summary").text.split() + page.by_id("mr-timeline").text.split())
        wrong = _wrong_words(request.kind, seller_fault, text)
        assert not wrong, (wrong, email, text)
        if own_rows and "%(" not in said.timeline:
            assert said.timeline in text, (said.timeline, text)
        if request.status == workflow.Status.REPLACEMENT_SHIPPED:
            assert page.by_id("mr-refund") is None, "a finished exchange shows a refund"


def test_a_refused_cancellation_tells_the_buyer_once_then_again_when_the_money_has_moved(ctx):
    request = flows.submit_cancellation()
    flows.take(flows.LUNE, request.id, "refuse_order")
    buyer = [action for action, role, _address in queued_emails() if role == Role.BUYER]
    assert buyer == ["refuse_order"]
    refunds.confirm_refund(db.session.scalar(sa.select(Refund.idempotency_key)))
    buyer = [action for action, role, _address in queued_emails() if role == Role.BUYER]
    assert buyer == ["refuse_order", "confirm_refund"]
