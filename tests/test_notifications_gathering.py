"""Several messages posted in a short while reach the other party as one email.

Through a real SMTP server (aiosmtpd): a party who writes three messages in a
row sends the other party one email quoting all three; news of a change of
status still leaves at once, after the messages held back for the same person.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from mirette_returns_plugin import delivery, notifications, send_on_commit, workflow
from mirette_returns_plugin.models import OutboxState, utcnow
from tests.shop import CAMILLE, LUNE, user
from tests.test_notifications_smtp import outbox, submit

pytestmark = pytest.mark.usefixtures("mail_app", "ctx")

WINDOW = 60


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MIRETTE_RETURNS_MESSAGE_EMAIL_WINDOW": WINDOW}


def after_the_window():
    return utcnow() + timedelta(seconds=WINDOW + 1)


def test_three_messages_in_a_row_make_one_email_quoting_them_all(smtp):
    request = submit()
    delivery.deliver()  # the new request, to the artist
    smtp.clear()
    for body in ("The handle is cracked.", "Here is a second detail.", "And a third, sorry!"):
        workflow.post_message(user(CAMILLE), request.id, body)

    assert delivery.deliver().handled == 0  # held back during the window
    report = delivery.deliver(now=after_the_window())

    assert report.sent == 1
    [email] = smtp.arrived
    assert email.envelope_to == (LUNE,)
    assert email.subject == "[Mirette] Order MIR-1004 – Speckled mug: New message from Camille Martin"
    for body in ("The handle is cracked.", "Here is a second detail.", "And a third, sorry!"):
        assert body in email.text and body in email.html
    assert email.text.index("cracked") < email.text.index("second") < email.text.index("third")
    assert email.html.count("<blockquote") == 3

    # Once that email is on its way, the next message starts a new one.
    workflow.post_message(user(CAMILLE), request.id, "One more thing.")
    delivery.deliver(now=after_the_window() + timedelta(seconds=WINDOW))
    assert len(smtp.arrived) == 2 and "One more thing." in smtp.arrived[1].text
    assert "cracked" not in smtp.arrived[1].text


def test_a_long_burst_makes_several_emails_of_at_most_twenty_messages(smtp):
    request = submit()
    delivery.deliver()
    smtp.clear()
    bodies = [f"Detail number {number}." for number in range(1, notifications.GATHERED_AT_MOST + 2)]
    for body in bodies:
        workflow.post_message(user(CAMILLE), request.id, body)

    # The full email leaves at once, without waiting for the window.
    assert delivery.deliver().sent == 1
    [full] = smtp.arrived
    assert full.html.count("<blockquote") == notifications.GATHERED_AT_MOST
    assert all(body in full.text for body in bodies[:-1]) and bodies[-1] not in full.text
    delivery.deliver(now=after_the_window())
    [_full, rest] = smtp.arrived
    assert bodies[-1] in rest.text and bodies[-2] not in rest.text


def test_each_party_gets_the_other_partys_messages_only(smtp):
    request = submit()
    workflow.post_message(user(CAMILLE), request.id, "Buyer first.")
    workflow.post_message(user(LUNE), request.id, "Artist answers.")
    workflow.post_message(user(CAMILLE), request.id, "Buyer again.")

    delivery.deliver(now=after_the_window())

    [to_artist] = [e for e in smtp.to(LUNE) if "New message" in e.subject]
    [to_buyer] = smtp.to(CAMILLE)
    assert "Buyer first." in to_artist.text and "Buyer again." in to_artist.text
    assert "Artist answers." not in to_artist.text
    assert "Artist answers." in to_buyer.text
    assert "Buyer first." not in to_buyer.text and "Buyer again." not in to_buyer.text


def test_a_change_of_status_is_emailed_at_once_after_the_messages_held_for_that_person(smtp):
    request = submit()
    delivery.deliver()
    smtp.clear()
    workflow.post_message(user(LUNE), request.id, "Let me check with the workshop.")
    workflow.perform(user(LUNE), request.id, "accept", note="Send it back.")

    report = delivery.deliver()  # no time passes

    assert report.sent == 2
    assert [e.subject.rsplit(": ", 1)[1] for e in smtp.to(CAMILLE)] == [
        "New message about your return request", "Accepted - return instructions given"]
    assert all(row.state == OutboxState.SENT for row in outbox())


class TestSendingOnCommit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": True, "MIRETTE_RETURNS_MESSAGE_EMAIL_WINDOW": 1}

    def test_the_web_process_sends_the_gathered_email_when_the_window_closes(self, app, smtp):
        request = submit()
        assert smtp.wait_for(1)
        workflow.post_message(user(CAMILLE), request.id, "First.")
        workflow.post_message(user(CAMILLE), request.id, "Second.")

        assert smtp.wait_for(2, timeout=30)
        send_on_commit.wait_for_background(app)
        [email] = smtp.arrived[1:]
        assert "First." in email.text and "Second." in email.text
        assert len(outbox()) == 2
