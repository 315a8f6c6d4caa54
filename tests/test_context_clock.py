"""The services take their context: a test gives its own clock and checks a
time rule without waiting or rewriting the database's dates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mirette_returns_plugin import workflow
from mirette_returns_plugin.errors import NotAllowed
from mirette_returns_plugin.models import utcnow
from tests import flows
from tests.shop import CAMILLE, line_ref, order_ref, user

pytestmark = pytest.mark.usefixtures("ctx")


def later(days: float) -> workflow.Context:
    """The mounted plugin's context, its clock ``days`` ahead."""
    moment = utcnow() + timedelta(days=days)
    return workflow.current_context().but(clock=lambda: moment)


def test_the_context_is_the_mounted_plugins_with_the_shops_clock():
    context = workflow.current_context()
    assert context.config["MESSAGES_AFTER_CLOSING_DAYS"] == 14
    assert abs(context.now() - utcnow()) < timedelta(seconds=5)
    assert later(3).now() - utcnow() > timedelta(days=2)
    assert workflow.current_context(context) is context


def test_a_return_asked_after_the_window_by_the_clock_is_refused():
    form = workflow.ReturnForm(line_ref=line_ref(flows.LINE_ORDER, flows.LINE_PRODUCT), quantity=1, kind="return",
                               reason_code="changed_mind")
    with pytest.raises(NotAllowed) as refused:
        workflow.submit_return(user(CAMILLE), order_ref(flows.LINE_ORDER), form, context=later(400))
    assert "The return period of" in refused.value.message
    # The same form today is taken.
    assert workflow.submit_return(user(CAMILLE), order_ref(flows.LINE_ORDER), form).status == "requested"


def test_a_closed_thread_takes_messages_for_the_grace_period_by_the_clock():
    request_id = flows.submit_line().id
    flows.take(CAMILLE, request_id, "withdraw")
    workflow.post_message(user(CAMILLE), request_id, "Sorry, I kept it after all.", context=later(13))
    with pytest.raises(NotAllowed) as refused:
        workflow.post_message(user(CAMILLE), request_id, "One more thing", context=later(15))
    assert "closed more than 14 days ago" in refused.value.message


def test_the_message_rate_counts_the_last_minute_by_the_clock():
    request_id = flows.submit_line().id
    now = workflow.current_context()
    # The settings are the context's too: three messages a minute, for this test.
    three = now.but(config={**now.config, "MESSAGES_PER_MINUTE": 3, "MESSAGES_PER_DAY": None})
    for number in range(3):
        workflow.post_message(user(CAMILLE), request_id, f"Message {number}", context=three)
    with pytest.raises(NotAllowed) as refused:
        workflow.post_message(user(CAMILLE), request_id, "Too fast", context=three)
    assert "very fast" in refused.value.message
    a_minute_later = utcnow() + timedelta(seconds=61)
    workflow.post_message(user(CAMILLE), request_id, "A minute later",
                          context=three.but(clock=lambda: a_minute_later))
