"""Nobody is left waiting: reminders, then support on its own.

A request waits on one party at a time (:data:`MUST_ACT`). When that party
has not acted for the days their artist's policy gives (else the shop's
``ANSWER_DAYS``), counted in business days unless the shop says otherwise,
they get one reminder email. When the artist still has not acted
``ESCALATE_AFTER_DAYS`` later, the support team is asked to step in, as if
the buyer had pressed the button, with "the system" in the history.

:func:`tick` does what is due; ``flask mirette-returns tick`` and the Celery
task run it. Each reminder and escalation is first *claimed* by inserting a
:class:`~.models.Reminder` row, unique per request, status and step, in the
transaction that writes its history row and queues its emails: of several
ticks racing, one insert wins and the others find the row and move on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from . import fragments, moments
from .domain import Role, Status
from .errors import ConfigurationError, Conflict, NotFound
from .i18n import N_, gettext as _
from .models import HistoryEntry, Message, Reminder, ReminderStep, Request, utcnow
from .state import current_state
from .telling import Step, Words, register
from .workflow import ESCALATE, lock_request, record, transaction

#: Who must act next, by status; the other party is the one waiting.
#: A request sent (``requested``), an item sent back (``shipped_back``) or
#: received (``received``) waits on the artist; an accepted return or
#: exchange waits on the buyer, who has to send the item back. Statuses left
#: out wait on nobody here: final ones, and a refund the shop has to confirm.
MUST_ACT: dict[str, str] = {
    Status.REQUESTED: Role.ARTIST,
    Status.SHIPPED_BACK: Role.ARTIST,
    Status.RECEIVED: Role.ARTIST,
    Status.ACCEPTED: Role.BUYER,
}

#: Who is escalated on when still silent after the reminder. A buyer who does
#: not send an item back leaves nobody stuck: the artist may decline.
ESCALATED_ROLES = frozenset({Role.ARTIST})


#: Requests read per query while looking for what is due.
BATCH = 200


@dataclass
class Report:
    """What one tick did."""

    reminded: int = 0
    escalated: int = 0


def check_settings(settings: dict[str, object]) -> None:
    """Refuse, at mounting, settings the tick could not count with."""
    for key, least in (("ANSWER_DAYS", 1), ("ESCALATE_AFTER_DAYS", 0)):
        value = settings[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
            raise ConfigurationError(f"MIRETTE_RETURNS_{key} must be a whole number of days, {least} or more, "
                                     f"or None; it is {value!r}.")
    if settings["CLOCK"] is not None and not callable(settings["CLOCK"]):
        raise ConfigurationError("MIRETTE_RETURNS_CLOCK must be a function giving the current moment, or None.")


def now() -> datetime:
    """The current moment: the shop's ``CLOCK`` setting if it has one, else the real clock."""
    clock: Callable[[], datetime] | None = current_state().config.get("CLOCK")
    moment = clock() if clock else utcnow()
    if moment.tzinfo is None:
        raise ValueError("MIRETTE_RETURNS_CLOCK must give a timezone-aware moment")
    return moment.astimezone(timezone.utc)


def add_days(start: datetime, days: int, *, business: bool) -> datetime:
    """``start`` moved on by ``days`` days, at the same time of day.

    Business days skip Saturdays and Sundays (in UTC): a request sent on a
    Friday with one business day to answer is due on Monday at the same hour.
    """
    if not business:
        return start + timedelta(days=days)
    moment, left = start, days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


@dataclass(frozen=True)
class Wait:
    """One request's wait: who must act, since when, and what falls due when."""

    silent_role: str
    since: datetime
    remind_at: datetime | None
    escalate_at: datetime | None


def wait_of(request: Request) -> Wait | None:
    """The wait ``request`` is in now, or ``None`` when it waits on nobody.

    The wait starts when the request entered its status, or at the silent
    party's newest message if later: someone who wrote is not silent.
    """
    silent = MUST_ACT.get(request.status)
    if silent is None or request.escalated or request.closed_at is not None:
        return None
    db = current_state().session
    entered = db.scalar(
        sa.select(sa.func.max(HistoryEntry.created_at)).where(
            HistoryEntry.request_id == request.id, HistoryEntry.to_status == request.status,
            sa.or_(HistoryEntry.from_status.is_(None), HistoryEntry.from_status != HistoryEntry.to_status)))
    wrote = db.scalar(sa.select(sa.func.max(Message.created_at))
                      .where(Message.request_id == request.id, Message.author_role == silent))
    since = max(moment for moment in (entered, wrote, request.created_at) if moment is not None)
    config = current_state().config
    business = bool(config["BUSINESS_DAYS"])
    # An artist's own days when they gave a sensible number, else the shop's.
    own = request.policy_answer_days
    days = own if own is not None and own > 0 else config["ANSWER_DAYS"]
    if not days:
        return Wait(silent, since, None, None)
    remind_at = add_days(since, int(days), business=business)
    later = config["ESCALATE_AFTER_DAYS"]
    escalate_at = None
    if silent in ESCALATED_ROLES and later is not None:
        escalate_at = add_days(remind_at, int(later), business=business)
    return Wait(silent, since, remind_at, escalate_at)


def support_steps_in_at(request: Request) -> datetime | None:
    """When support will be asked to step in if the artist stays silent, for
    the buyer's page; ``None`` when that is not going to happen on its own."""
    # Read from the request's history, messages and claims: the same while its version stays.
    due = current_state().fragments.get_or_make(
        fragments.request_key("escalation-due", request), lambda: _escalation_due(request), lambda _due: 64)
    return due if due is not None and due > now() else None


def _escalation_due(request: Request) -> datetime | None:
    wait = wait_of(request)
    if wait is None or wait.escalate_at is None:
        return None
    if _claimed(request.id, request.status, ReminderStep.ESCALATE):
        return None  # escalated once in this status, and resolved since
    return wait.escalate_at


def tick(*, at: datetime | None = None) -> Report:
    """Send the reminders and escalations due at ``at`` (default: :func:`now`).

    Safe to run on several machines at once and as often as wanted. Each
    reminder commits in a transaction of its own, so call it outside any
    transaction of the caller's (a command, a task).
    """
    at = at or now()
    db = current_state().session
    report = Report()
    after = 0
    while True:
        ids = list(db.scalars(_pending().where(Request.id > after).order_by(Request.id).limit(BATCH)))
        db.rollback()  # each claim reads afresh in its own transaction
        if not ids:
            return report
        for request_id in ids:
            for step in _due_steps(request_id, at):
                if _take(request_id, step, at):
                    if step == ReminderStep.REMIND:
                        report.reminded += 1
                    else:
                        report.escalated += 1
        after = ids[-1]


def _due_steps(request_id: int, at: datetime) -> list[str]:
    """The steps due at ``at`` on a request, read without locking it: most
    ticks find nothing due, and then leave the row alone."""
    db = current_state().session
    request = db.get(Request, request_id, populate_existing=True)
    wait = wait_of(request) if request is not None else None
    db.rollback()
    if wait is None:
        return []
    return [step for step, due in ((ReminderStep.REMIND, wait.remind_at), (ReminderStep.ESCALATE, wait.escalate_at))
            if due is not None and at >= due]


def _pending() -> sa.Select[int]:
    """Requests that may still have a reminder or an escalation to come."""
    def done(step: str) -> sa.Exists:
        return sa.exists().where(Reminder.request_id == Request.id, Reminder.status == Request.status,
                                 Reminder.step == step)

    escalating = [status for status, role in MUST_ACT.items() if role in ESCALATED_ROLES]
    return (sa.select(Request.id)
            .where(Request.status.in_(list(MUST_ACT)), Request.escalated.is_(False))
            .where(~done(ReminderStep.ESCALATE))
            .where(sa.or_(Request.status.in_(escalating), ~done(ReminderStep.REMIND))))


def _claimed(request_id: int, status: str, step: str) -> bool:
    found = current_state().session.scalar(sa.select(sa.func.count()).select_from(Reminder).where(
        Reminder.request_id == request_id, Reminder.status == status, Reminder.step == step))
    return bool(found)


def _take(request_id: int, step: str, at: datetime) -> bool:
    """Claim and do one step if it is due; ``False`` when it is not, or another tick did it."""
    def work() -> bool:
        request = lock_request(request_id)
        wait = wait_of(request)
        if wait is None:
            return False
        due = wait.remind_at if step == ReminderStep.REMIND else wait.escalate_at
        if due is None or at < due or _claimed(request.id, request.status, step):
            return False
        db = current_state().session
        db.add(Reminder(request_id=request.id, status=request.status, step=step, silent_role=wait.silent_role,
                        created_at=utcnow()))
        db.flush()  # the claim: a racing tick's identical row fails here or waits for this one
        if step == ReminderStep.REMIND:
            record(request, REMINDERS[wait.silent_role], request.status, request.status, Role.SYSTEM, None, None)
        else:
            request.escalated = True
            record(request, ESCALATE, request.status, request.status, Role.SYSTEM, None, None)
        return True

    try:
        return bool(transaction(work))
    except (Conflict, NotFound):  # another tick claimed it first; or the request is gone
        return False


def _steps_in_fact(request: object, steps_in: datetime | None) -> list[tuple[str, str]]:
    return [(_("Support steps in on"), moments.day(steps_in))] if steps_in is not None else []


#: The tick's own steps, as the history and the emails tell them.
REMIND_ARTIST = Step(
    action="remind_artist", told=(Role.ARTIST,), facts=_steps_in_fact, moment=support_steps_in_at,
    words=Words(N_("reminded the seller that the buyer is waiting for an answer"),
                N_("%(buyer)s is still waiting for your answer on this request. Please take the next step "
                   "from the request's page."), subject=N_("Reminder: the buyer is waiting for your answer")))
REMIND_BUYER = Step(
    action="remind_buyer", told=(Role.BUYER,),
    words=Words(N_("reminded the buyer to send the item back"),
                N_("%(artist)s accepted your request and is waiting for the item. Please send it back as the "
                   "return instructions say, then tell them so on the request's page."),
                subject=N_("Reminder: please send the item back"), quote="instructions",
                quote_label=N_("Return instructions")))
#: The reminder, by the role reminded.
REMINDERS: dict[str, Step] = {Role.ARTIST: REMIND_ARTIST, Role.BUYER: REMIND_BUYER}
STEPS = (REMIND_ARTIST, REMIND_BUYER)
register(STEPS)
