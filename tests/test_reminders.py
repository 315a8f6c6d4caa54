"""Nobody is left waiting: one reminder, then support on its own (``flask mirette-returns tick``).

The clock is injected through ``MIRETTE_RETURNS_CLOCK``: the tests move it
on, nothing sleeps. Emails go through the outbox to a real SMTP server.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import ConfigurationError, delivery, reminders, workflow
from mirette_returns_plugin.demo import create_app
from mirette_returns_plugin.demo.adapter import DemoShopAdapter
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import HistoryEntry, Message, Reminder, Request
from mirette_returns_plugin.workflow import ReturnForm, Status
from tests.conftest import RACES
from tests.flows import shop_refunds
from tests.pagekit import parse
from tests.shop import CAMILLE, LUNE, SUPPORT, line_ref, order_ref, user

UTC = timezone.utc
#: A Friday morning; with one business day to answer, the reminder is due on Monday.
FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
SATURDAY, MONDAY, TUESDAY, WEDNESDAY = (FRIDAY + timedelta(days=days) for days in (1, 3, 4, 5))


class Clock:
    """The moment the plugin takes for now; a test moves it."""

    def __init__(self) -> None:
        self.now = FRIDAY

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def business_days() -> bool:
    return True


@pytest.fixture
def app_config(app_config: dict, clock: Clock, business_days: bool) -> dict:
    return {**app_config, "MIRETTE_RETURNS_CLOCK": clock, "MIRETTE_RETURNS_ANSWER_DAYS": 1,
            "MIRETTE_RETURNS_ESCALATE_AFTER_DAYS": 2, "MIRETTE_RETURNS_BUSINESS_DAYS": business_days}


def sent_on_friday(product: str = "Speckled mug", *, accepted: bool = False) -> int:
    """A return Camille sends Atelier Lune on Friday at 10:00 (accepted at once if asked)."""
    request = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), ReturnForm(
        line_ref=line_ref("MIR-1004", product), quantity=1, kind="return", reason_code="changed_mind"))
    if accepted:
        workflow.perform(user(LUNE), request.id, "accept", note="Post it to 3 rue des Potiers, Lyon.")
    # The request's rows say it all happened on Friday morning.
    db.session.execute(sa.update(Request).where(Request.id == request.id)
                       .values(created_at=FRIDAY, last_activity_at=FRIDAY))
    db.session.execute(sa.update(HistoryEntry).where(HistoryEntry.request_id == request.id)
                       .values(created_at=FRIDAY))
    db.session.commit()
    return request.id


def tick_at(clock: Clock, moment: datetime) -> reminders.Report:
    clock.now = moment
    report = reminders.tick()
    db.session.remove()
    return report


def steps_by_the_system(request_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(HistoryEntry.action).where(
        HistoryEntry.request_id == request_id, HistoryEntry.actor_role == "system").order_by(HistoryEntry.id)))


def delivered(smtp) -> list:
    """Send what the outbox holds; what arrived since the last call."""
    before = len(smtp.arrived)
    delivery.deliver()
    return smtp.arrived[before:]


def test_the_silent_artist_is_reminded_once_after_one_business_day_friday_to_monday(mail_app, smtp, clock):
    with mail_app.test_request_context():
        request_id = sent_on_friday()
        delivered(smtp)  # the "new return request" email

        # Saturday and Sunday do not count; nor does Monday before 10:00.
        assert tick_at(clock, SATURDAY + timedelta(hours=2)) == reminders.Report(0, 0)
        assert tick_at(clock, MONDAY - timedelta(minutes=1)) == reminders.Report(0, 0)
        assert delivered(smtp) == []

        assert tick_at(clock, MONDAY + timedelta(minutes=1)) == reminders.Report(reminded=1, escalated=0)
        [email] = delivered(smtp)
        assert email.envelope_to == (LUNE,)
        assert email.subject.endswith("Reminder: the buyer is waiting for your answer")
        assert "Camille Martin is still waiting for your answer on this request." in email.text
        assert "Support steps in on: Dec 9, 2026" in email.text
        assert "is still waiting for your answer" in email.html

        # Ticking again, at once or the next day, sends nothing more.
        assert tick_at(clock, MONDAY + timedelta(minutes=2)) == reminders.Report(0, 0)
        assert tick_at(clock, TUESDAY) == reminders.Report(0, 0)
        assert delivered(smtp) == []
        assert steps_by_the_system(request_id) == ["remind_artist"]


@pytest.mark.parametrize("business_days", [False])
def test_a_shop_counting_calendar_days_reminds_on_saturday(mail_app, smtp, clock):
    with mail_app.test_request_context():
        request_id = sent_on_friday()
        delivered(smtp)
        assert tick_at(clock, SATURDAY + timedelta(minutes=1)).reminded == 1
        assert [email.envelope_to for email in delivered(smtp)] == [(LUNE,)]
        assert steps_by_the_system(request_id) == ["remind_artist"]


def test_support_steps_in_on_its_own_after_the_second_threshold(mail_app, smtp, clock):
    with mail_app.test_request_context():
        request_id = sent_on_friday()
        tick_at(clock, MONDAY + timedelta(hours=1))
        delivered(smtp)

        assert tick_at(clock, WEDNESDAY - timedelta(minutes=1)) == reminders.Report(0, 0)
        assert tick_at(clock, WEDNESDAY + timedelta(minutes=1)) == reminders.Report(reminded=0, escalated=1)
        assert tick_at(clock, WEDNESDAY + timedelta(days=3)) == reminders.Report(0, 0)

        request = db.session.get(Request, request_id)
        assert request.escalated and request.status == Status.REQUESTED
        [entry] = db.session.scalars(sa.select(HistoryEntry).where(
            HistoryEntry.request_id == request_id, HistoryEntry.action == "escalate")).all()
        assert (entry.actor_role, entry.actor_name) == ("system", "system")
        arrived = delivered(smtp)
        [to_support] = [email for email in arrived if email.envelope_to == (SUPPORT,)]
        assert to_support.subject.endswith("Support team asked to step in")
        assert "Atelier Lune has not answered in time, so the support team was asked to step in." in to_support.text
        # Everyone involved hears of it, as with a manual escalation.
        assert {email.envelope_to for email in arrived} == {(SUPPORT,), (CAMILLE,), (LUNE,)}
        assert delivered(smtp) == []


def test_the_buyers_page_says_when_support_will_step_in(mail_app, smtp, clock, client_as):
    with mail_app.test_request_context():
        request_id = sent_on_friday()
    clock.now = TUESDAY
    page = parse(client_as(CAMILLE).get(f"/returns/requests/{request_id}"))
    assert page.by_id("mr-steps-in").text == (
        "If Atelier Lune has not answered by Dec 9, 2026, the support team will step in.")
    # The artist's page does not announce it; once support is in, the buyer's no longer does.
    assert parse(client_as(LUNE).get(f"/returns/requests/{request_id}")).by_id("mr-steps-in") is None
    with mail_app.test_request_context():
        tick_at(clock, WEDNESDAY + timedelta(hours=1))
    page = parse(client_as(CAMILLE).get(f"/returns/requests/{request_id}"))
    assert page.by_id("mr-steps-in") is None
    assert "The system" in page.by_id("mr-timeline").text


def test_a_buyer_who_has_not_sent_the_item_back_is_reminded_and_not_escalated(mail_app, smtp, clock):
    with mail_app.test_request_context():
        request_id = sent_on_friday(accepted=True)
        delivered(smtp)
        assert tick_at(clock, MONDAY + timedelta(minutes=1)).reminded == 1
        [email] = delivered(smtp)
        assert email.envelope_to == (CAMILLE,)
        assert email.subject.endswith("Reminder: please send the item back")
        assert "Post it to 3 rue des Potiers, Lyon." in email.text
        # The artist waits on the buyer: support is not called in for that.
        assert tick_at(clock, WEDNESDAY + timedelta(days=30)) == reminders.Report(0, 0)
        assert steps_by_the_system(request_id) == ["remind_buyer"]


class PatientArtistShop(DemoShopAdapter):
    """The demo shop where every artist gives themselves three days to answer."""

    def get_artist(self, artist_ref: str):
        artist = super().get_artist(artist_ref)
        return artist and replace(artist, policy=replace(artist.policy, answer_days=3))


def test_the_artists_own_days_to_answer_win_over_the_shops(mail_app, smtp, clock):
    with mail_app.test_request_context():
        with shop_refunds(PatientArtistShop()):
            request_id = sent_on_friday()
        assert db.session.get(Request, request_id).policy_answer_days == 3
        assert tick_at(clock, TUESDAY + timedelta(hours=1)).reminded == 0
        assert tick_at(clock, WEDNESDAY + timedelta(minutes=1)).reminded == 1


@pytest.mark.seeded_languages
def test_reminders_are_written_in_the_readers_language(mail_app, smtp, clock):
    with mail_app.test_request_context():
        sent_on_friday()
        sent_on_friday("Speckled mug", accepted=True)
        delivered(smtp)
        assert tick_at(clock, MONDAY + timedelta(minutes=1)).reminded == 2
        arrived = {email.envelope_to: email for email in delivered(smtp)}
        to_artist, to_buyer = arrived[(LUNE,)], arrived[(CAMILLE,)]
        # Subjects are written on one line, every space a plain one.
        assert to_artist.subject.endswith("Rappel : l'acheteur attend votre réponse")
        assert "Camille Martin attend toujours votre réponse à cette demande." in to_artist.text
        assert to_buyer.subject.endswith("Rappel : merci de renvoyer l'article")
        assert "Intervention prévue du service client" in to_artist.text


def test_the_tick_command_reports_what_it_did(mail_app, smtp, clock):
    with mail_app.test_request_context():
        sent_on_friday()
    clock.now = MONDAY + timedelta(hours=1)
    runner = mail_app.test_cli_runner()
    result = runner.invoke(args=["mirette-returns", "tick"])
    assert result.exit_code == 0, result.output
    assert result.output == "Sent 1 reminder(s); asked support to step in on 0 request(s).\n"
    result = runner.invoke(args=["mirette-returns", "tick"])
    assert result.output == "Sent 0 reminder(s); asked support to step in on 0 request(s).\n"
    with mail_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Reminder)) == 1


TICKS_AT_ONCE = 4


@RACES[0]
@RACES[1]
def test_ticks_running_at_once_send_each_reminder_and_escalation_once(mail_app, smtp, clock):
    with mail_app.test_request_context():
        request_ids = [sent_on_friday() for _ in range(3)]
        delivered(smtp)
        db.session.remove()
    # Both the reminder and the escalation are due for every request.
    clock.now = WEDNESDAY + timedelta(hours=1)
    start = threading.Barrier(TICKS_AT_ONCE)
    reports: list[reminders.Report] = []
    failures: list[BaseException] = []

    def run_tick() -> None:
        try:
            with mail_app.app_context():
                start.wait()
                reports.append(reminders.tick())
                db.session.remove()
        except BaseException as error:  # surfaced below
            failures.append(error)

    threads = [threading.Thread(target=run_tick) for _ in range(TICKS_AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)
    assert sum(report.reminded for report in reports) == 3
    assert sum(report.escalated for report in reports) == 3
    with mail_app.app_context():
        for request_id in request_ids:
            assert steps_by_the_system(request_id) == ["remind_artist", "escalate"]
        arrived = delivered(smtp)
    # Per request: the reminder to the artist, the escalation to support, buyer and artist.
    assert len(arrived) == 3 * 4
    assert len({email.message_id for email in arrived}) == len(arrived)
    assert sum(email.envelope_to == (LUNE,) and "Reminder" in email.subject for email in arrived) == 3


@pytest.mark.parametrize(("key", "value", "message"), [
    ("MIRETTE_RETURNS_ANSWER_DAYS", 0, "MIRETTE_RETURNS_ANSWER_DAYS must be a whole number of days, 1 or more"),
    ("MIRETTE_RETURNS_ESCALATE_AFTER_DAYS", "4", "MIRETTE_RETURNS_ESCALATE_AFTER_DAYS must be a whole number"),
    ("MIRETTE_RETURNS_CLOCK", "2026-12-04", "MIRETTE_RETURNS_CLOCK must be a function"),
])
def test_settings_the_tick_cannot_count_with_are_refused_at_mounting(app_config, key, value, message):
    with pytest.raises(ConfigurationError, match=message):
        create_app({**app_config, key: value})


def test_an_artist_who_writes_is_not_silent_the_wait_starts_again(mail_app, smtp, clock):
    with mail_app.test_request_context():
        request_id = sent_on_friday()
        message = workflow.post_message(user(LUNE), request_id, "I am looking into it.")
        db.session.execute(sa.update(Message).where(Message.id == message.id)
                           .values(created_at=MONDAY - timedelta(hours=1)))
        db.session.commit()
        # A buyer's message does not move the artist's wait.
        workflow.post_message(user(CAMILLE), request_id, "Any news?")
        assert tick_at(clock, MONDAY + timedelta(minutes=1)).reminded == 0
        assert tick_at(clock, TUESDAY - timedelta(minutes=59)).reminded == 1
        assert steps_by_the_system(request_id) == ["remind_artist"]
