"""The ctx machine: one row per step, read as a table.

A row says everything that differs from one step to another: the kinds of
request and the statuses it starts from, the status it leads to, who may
take it, the fields it asks for, its guard, its effect (a function of
:mod:`.effects`), whether it pays money, who is told and in which words
(:class:`~mirette_returns_plugin.telling.Words`, with variants where the kind,
the reason or the shop changes them). Pages, emails, the timeline, the tests
and the README's table all read these rows; adding a step is adding a row
(see ``docs/steps.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import words as shop_words
from ..adapter import User
from ..context import Context
from ..domain import ALL_KINDS, FINAL_STATUSES, LINE_KINDS, RequestKind, Role, Status, roles_on
from ..i18n import N_, gettext as _
from ..labels import STATUS_LABELS, came_back_faulty
from ..models import REASON_LENGTH, HistoryEntry, Request
from ..telling import Step, Words, register
from . import effects
from .refund_rules import refund_not_started, retry_block_reason

B, A, S, SHOP = Role.BUYER, Role.ARTIST, Role.SUPPORT, Role.SHOP


@dataclass(frozen=True)
class FormField:
    """A text field a step asks for."""

    name: str
    label: str
    required: bool = False
    max_length: int | None = None
    multiline: bool = True
    #: The keyboard a phone shows (``"decimal"`` for an amount).
    inputmode: str | None = None


INSTRUCTIONS = FormField("note", N_("Return instructions for the buyer"), required=True)
DECLINE_REASON = FormField("note", N_("Reason, shown to the buyer"), required=True)
OPTIONAL_NOTE = FormField("note", N_("Note (optional)"))
TRACKING = FormField("tracking", N_("Tracking number (optional)"), max_length=255, multiline=False)
REFUND_AMOUNT = FormField("amount", N_("Amount to refund"), required=True, max_length=20, multiline=False,
                          inputmode="decimal")
REFUND_REASON = FormField("note", N_("Why less is refunded, shown to the buyer"), required=True,
                          max_length=REASON_LENGTH)

#: Returns a message when the step is not possible now.
Guard = Callable[[Request], "str | None"]
#: Changes the request as the step says (the context, the request, the fields' values).
Effect = Callable[[Context, Request, effects.Values], None]


@dataclass(frozen=True, kw_only=True)
class Transition(Step):
    """One step of the ctx machine that a person takes."""

    kinds: frozenset[str]
    sources: frozenset[str]
    #: ``None`` keeps the status (a step recorded in the history only).
    target: str | None
    roles: frozenset[str]
    #: Button label, translated when shown.
    label: str
    #: Other words for the button, for some requests: the first that fits wins.
    label_variants: tuple[tuple[Callable[[Request], bool], str], ...] = ()
    fields: tuple[FormField, ...] = ()
    guard: Guard | None = None
    effect: Effect | None = None
    #: Buttons that cannot be undone ask for a confirmation.
    destructive: bool = False
    #: Where the step may lead instead of ``target``: refusing a part the
    #: buyer has not paid cancels it with nothing to refund.
    also_leads_to: frozenset[str] = frozenset()
    #: The step asks the shop to pay (see ``refunds.perform_refund_step``).
    pays: bool = False
    #: The step's own row is written before the shop is asked to pay.
    moves_before_paying: bool = False
    #: The step records, by hand, that the shop paid.
    confirms_payment: bool = False
    #: The step's email already says a refund is on its way: the shop's
    #: acceptance that follows is not news to the buyer.
    announces_refund: bool = False

    def leads_to(self, request: Request) -> str:
        return self.target or request.status


# --------------------------------------------------------------------------- #
# Guards, and the tests that pick words
# --------------------------------------------------------------------------- #


def _needs_exchange(request: Request) -> str | None:
    if request.kind != RequestKind.EXCHANGE:
        return _("Only an exchange can be converted to a refund.")
    return None


def _not_escalated(request: Request) -> str | None:
    return _("Support has already been asked to step in.") if request.escalated else None


def _escalated(request: Request) -> str | None:
    return None if request.escalated else _("Nobody asked support to step in.")


def _is_kind(kind: str) -> Callable[[Request, HistoryEntry | None], bool]:
    return lambda request, entry: request.kind == kind


def _single_seller(request: Request, entry: HistoryEntry | None = None) -> bool:
    return not shop_words.is_marketplace()


def _faulty(request: Request, entry: HistoryEntry | None = None) -> bool:
    return came_back_faulty(request)


def _nothing_charged(request: Request, entry: HistoryEntry | None) -> bool:
    return entry is not None and entry.to_status == Status.CANCELLED


def _by_the_system(request: Request, entry: HistoryEntry | None) -> bool:
    return entry is not None and entry.actor_role == Role.SYSTEM


def _single_seller_cancellation(request: Request, entry: HistoryEntry | None) -> bool:
    return request.kind == RequestKind.CANCELLATION and _single_seller(request)


# --------------------------------------------------------------------------- #
# Words shared by several rows
# --------------------------------------------------------------------------- #

WITHDRAWN = Words(N_("withdrew the request"), N_("%(actor)s withdrew the request. Nothing more needs to be done."))
DECLINED = Words(N_("declined the request"), N_("%(actor)s declined the request."),
                 quote="decline_reason", quote_label=N_("Reason"))
REFUND_STARTED = Words(N_("initiated the refund"), N_("A refund of %(amount)s has been initiated."))
REFUND_PAID = Words(N_("confirmed the refund was paid"), N_("The refund of %(amount)s is confirmed."))

ARTIST_SIDE = frozenset({A, S})

# --------------------------------------------------------------------------- #
# The table
# --------------------------------------------------------------------------- #

# Return and exchange.
ACCEPT = Transition(
    action="accept", kinds=LINE_KINDS, sources=frozenset({Status.REQUESTED}), target=Status.ACCEPTED,
    roles=ARTIST_SIDE, label=N_("Accept and give return instructions"), fields=(INSTRUCTIONS,),
    effect=effects.give_instructions, told=(B, A),
    words=Words(N_("accepted the request and gave return instructions"),
                N_("%(actor)s accepted the request and gave the return instructions below."),
                quote="instructions", quote_label=N_("Return instructions")))
DECLINE = Transition(
    action="decline", kinds=LINE_KINDS, sources=frozenset({Status.REQUESTED, Status.ACCEPTED, Status.SHIPPED_BACK}),
    target=Status.DECLINED, roles=ARTIST_SIDE, label=N_("Decline"), fields=(DECLINE_REASON,), destructive=True,
    effect=effects.give_decline_reason, told=(B, A), words=DECLINED)
WITHDRAW = Transition(
    action="withdraw", kinds=LINE_KINDS, sources=frozenset({Status.REQUESTED, Status.ACCEPTED}),
    target=Status.WITHDRAWN, roles=frozenset({B}), label=N_("Withdraw my request"), destructive=True,
    told=(A,), words=WITHDRAWN)
SHIP_BACK = Transition(
    action="ship_back", kinds=LINE_KINDS, sources=frozenset({Status.ACCEPTED}), target=Status.SHIPPED_BACK,
    roles=frozenset({B}), label=N_("I have sent the item back"), fields=(TRACKING,),
    effect=effects.keep_return_tracking, told=(A,), tracking_column="return_tracking",
    words=Words(N_("sent the item back"), N_("%(actor)s has sent the item back.")))
# An item the buyer said was damaged or wrong never comes back "in good condition".
RECEIVE = Transition(
    action="receive", kinds=LINE_KINDS, sources=frozenset({Status.ACCEPTED, Status.SHIPPED_BACK}),
    target=Status.RECEIVED, roles=ARTIST_SIDE, label=N_("Product received in good condition"),
    label_variants=((came_back_faulty, N_("Product received")),), fields=(OPTIONAL_NOTE,), told=(B, A),
    words=Words(N_("confirmed the product was received in good condition"),
                N_("%(actor)s received the item back in good condition.")),
    variants=((_faulty, Words(N_("confirmed the product was received"), N_("%(actor)s received the item back."))),))
CONVERT_TO_REFUND = Transition(
    action="convert_to_refund", kinds=frozenset({RequestKind.EXCHANGE}),
    sources=frozenset({Status.ACCEPTED, Status.SHIPPED_BACK, Status.RECEIVED}), target=None, roles=ARTIST_SIDE,
    label=N_("Refund instead, so the buyer can reorder"), fields=(OPTIONAL_NOTE,), guard=_needs_exchange,
    effect=effects.become_a_return, told=(B, A),
    words=Words(N_("turned the exchange into a refund, so the item can be reordered"),
                N_("%(actor)s will refund this exchange instead of sending another item, so that "
                   "the item wanted can be ordered again."), subject=N_("Exchange converted to a refund")))
SHIP_REPLACEMENT = Transition(
    action="ship_replacement", kinds=frozenset({RequestKind.EXCHANGE}), sources=frozenset({Status.RECEIVED}),
    target=Status.REPLACEMENT_SHIPPED, roles=ARTIST_SIDE, label=N_("Replacement shipped"), fields=(TRACKING,),
    effect=effects.keep_replacement_tracking, told=(B, A), tracking_column="replacement_tracking",
    words=Words(N_("shipped the replacement"), N_("%(actor)s shipped the replacement item.")))
# The item came back used, incomplete or damaged: less than the estimate
# is refunded, with a reason the buyer reads (and may take to support).
DECIDE_REFUND = Transition(
    action="decide_refund", kinds=frozenset({RequestKind.RETURN}),
    sources=frozenset({Status.ACCEPTED, Status.SHIPPED_BACK, Status.RECEIVED}), target=Status.RECEIVED,
    roles=ARTIST_SIDE, label=N_("Refund less: the item came back used, incomplete or damaged"),
    fields=(REFUND_AMOUNT, REFUND_REASON), guard=refund_not_started, effect=effects.decide_amount,
    told=(B, A), shows_refund=True,
    words=Words(N_("decided to refund %(amount)s instead of the estimated %(estimate)s"),
                N_("%(actor)s received the item back and will refund %(amount)s instead of the "
                   "estimated %(estimate)s, for the reason below."),
                # The buyer may disagree: the way to the support team, in the same email.
                buyer_headline=N_("%(actor)s received the item back and will refund %(amount)s instead of "
                                  "the estimated %(estimate)s, for the reason below. If you disagree, you can "
                                  "ask the support team to step in from the request's page."),
                subject=N_("Partial refund decided"), quote="refund_decision_reason",
                quote_label=N_("Why less is refunded")))
INITIATE_REFUND = Transition(
    action="initiate_refund", kinds=frozenset({RequestKind.RETURN}), sources=frozenset({Status.RECEIVED}),
    target=Status.REFUND_INITIATED, roles=ARTIST_SIDE, label=N_("Initiate the refund"), guard=retry_block_reason,
    pays=True, told=(B,), shows_refund=True, words=REFUND_STARTED)
# Only a return reaches "refund initiated": an exchange is converted first.
CONFIRM_RETURN_REFUND = Transition(
    action="confirm_refund", kinds=frozenset({RequestKind.RETURN}), sources=frozenset({Status.REFUND_INITIATED}),
    target=Status.REFUNDED, roles=frozenset({SHOP, S}), label=N_("Confirm the refund was paid"),
    fields=(OPTIONAL_NOTE,), confirms_payment=True, told=(B,), shows_refund=True, words=REFUND_PAID)
# Cancellation of an artist's part, before processing.
REFUSE_ORDER = Transition(
    action="refuse_order", kinds=frozenset({RequestKind.CANCELLATION}), sources=frozenset({Status.REQUESTED}),
    target=Status.ORDER_REFUSED, roles=ARTIST_SIDE, label=N_("Refuse the order (refund the buyer)"),
    # A refusal's button where nothing was paid (the buyer asked; the shop
    # cancels), and where the shop is its own only seller.
    label_variants=((lambda request: not request.refund_total, N_("Cancel the order (nothing was charged)")),
                    (_single_seller, N_("Cancel the order (refund the buyer)"))),
    fields=(OPTIONAL_NOTE,), destructive=True, also_leads_to=frozenset({Status.CANCELLED}),
    effect=effects.refuse_part, pays=True, moves_before_paying=True, announces_refund=True,
    told=(B, A), shows_refund=True,
    words=Words(N_("refused the order; the refund is initiated"),
                N_("%(actor)s refused the order, as asked, so it is cancelled. A refund of %(amount)s "
                   "is being initiated.")),
    variants=(
        (_nothing_charged, Words(N_("cancelled the order, as asked; nothing was charged, so nothing is refunded"),
                                 N_("%(actor)s cancelled the order, as asked. Nothing was charged for it, so "
                                    "there is nothing to refund."))),
        # A shop that is its own only seller cancels what its buyer asked it to.
        (_single_seller, Words(N_("cancelled the order, as asked; the refund is initiated"),
                               N_("%(actor)s cancelled the order, as asked. A refund of %(amount)s is being "
                                  "initiated."))),
    ))
DECLINE_CANCELLATION = Transition(
    action="decline", kinds=frozenset({RequestKind.CANCELLATION}), sources=frozenset({Status.REQUESTED}),
    target=Status.DECLINED, roles=ARTIST_SIDE, label=N_("Decline: already shipped"), fields=(DECLINE_REASON,),
    destructive=True, effect=effects.give_decline_reason, told=(B, A),
    words=DECLINED.but(headline=N_("%(actor)s declined the cancellation: the order has already been processed. "
                                   "Once it has arrived, a return can be requested instead.")))
WITHDRAW_CANCELLATION = Transition(
    action="withdraw", kinds=frozenset({RequestKind.CANCELLATION}), sources=frozenset({Status.REQUESTED}),
    target=Status.WITHDRAWN, roles=frozenset({B}), label=N_("Withdraw my request"), destructive=True,
    told=(A,), words=WITHDRAWN)
# Writes no row of its own: the shop's answer does (refund_initiated or refund_failed).
RETRY_REFUND = Transition(
    action="retry_refund", kinds=frozenset({RequestKind.CANCELLATION}), sources=frozenset({Status.ORDER_REFUSED}),
    target=None, roles=ARTIST_SIDE, label=N_("Retry the refund"), guard=retry_block_reason, pays=True,
    words=REFUND_STARTED.but(timeline=N_("retried the refund")))
CONFIRM_CANCELLATION_REFUND = Transition(
    action="confirm_refund", kinds=frozenset({RequestKind.CANCELLATION}), sources=frozenset({Status.ORDER_REFUSED}),
    target=Status.REFUNDED, roles=frozenset({SHOP, S}), label=N_("Confirm the refund was paid"),
    fields=(OPTIONAL_NOTE,), confirms_payment=True, told=(B,), shows_refund=True, words=REFUND_PAID)
# Anyone involved may ask the marketplace's team to step in (and the tick, as "the system").
ESCALATE = Transition(
    action="escalate", kinds=ALL_KINDS, sources=frozenset(STATUS_LABELS) - FINAL_STATUSES, target=None,
    roles=frozenset({B, A}), label=N_("Ask the support team to step in"), fields=(OPTIONAL_NOTE,),
    guard=_not_escalated, effect=effects.call_support, told=(S, B, A),
    words=Words(N_("asked the support team to step in"), N_("%(actor)s asked the support team to step in."),
                subject=N_("Support team asked to step in")),
    variants=((_by_the_system, Words(N_("asked the support team to step in"),
                                     N_("%(artist)s has not answered in time, so the support team was asked to "
                                        "step in."), subject=N_("Support team asked to step in"))),))
RESOLVE_ESCALATION = Transition(
    action="resolve_escalation", kinds=ALL_KINDS, sources=frozenset(STATUS_LABELS), target=None,
    roles=frozenset({S}), label=N_("Mark the support case as resolved"), fields=(OPTIONAL_NOTE,),
    guard=_escalated, effect=effects.close_support_case, told=(B, A),
    words=Words(N_("marked the support case as resolved"),
                N_("The support team marked its case on this request as resolved."),
                subject=N_("Support case resolved")))

#: The ctx machine. One row per (action, kinds).
TRANSITIONS: tuple[Transition, ...] = (
    ACCEPT, DECLINE, WITHDRAW, SHIP_BACK, RECEIVE, CONVERT_TO_REFUND, SHIP_REPLACEMENT, DECIDE_REFUND,
    INITIATE_REFUND, CONFIRM_RETURN_REFUND, REFUSE_ORDER, DECLINE_CANCELLATION, WITHDRAW_CANCELLATION,
    RETRY_REFUND, CONFIRM_CANCELLATION_REFUND, ESCALATE, RESOLVE_ESCALATION,
)

# --------------------------------------------------------------------------- #
# Rows the workflow writes on its own
# --------------------------------------------------------------------------- #

SUBMIT = Step(
    action="submit", told=(A,), template="new_request",
    words=Words(N_("sent the request"),
                N_("%(buyer)s would like to return %(quantity)s × %(item)s from order %(number)s."),
                subject=N_("New return request"), quote="comment", quote_label=N_("Comment")),
    variants=(
        (_is_kind(RequestKind.EXCHANGE), Words(
            N_("sent the request"),
            N_("%(buyer)s would like to exchange %(quantity)s × %(item)s from order %(number)s."),
            subject=N_("New exchange request"), quote="comment", quote_label=N_("Comment"))),
        (_single_seller_cancellation, Words(
            N_("sent the request"),
            N_("%(buyer)s asks you to cancel their order %(number)s before you process it. If nothing has been "
               "shipped yet, cancel it: the buyer is then refunded what they paid."),
            subject=N_("New cancellation request"), quote="comment", quote_label=N_("Comment"))),
        (_is_kind(RequestKind.CANCELLATION), Words(
            N_("sent the request"),
            N_("%(buyer)s asks you to cancel their order %(number)s before you process it. If nothing has been "
               "shipped yet, refuse the order: the buyer is then refunded."),
            subject=N_("New cancellation request"), quote="comment", quote_label=N_("Comment"))),
    ))
#: The shop accepted a cancellation's refund (a return's moves to "refund initiated" instead).
REFUND_INITIATED = Step(action="refund_initiated", told=(B,), shows_refund=True,
                        words=REFUND_STARTED.but(subject=N_("Refund initiated")))
#: The shop could not start a refund: support hears of it.
REFUND_FAILED = Step(
    action="refund_failed", told=(S,), template="refund_failed", shows_refund=True,
    words=Words(N_("could not initiate the refund"),
                N_("The refund of %(amount)s could not be initiated. Nothing was paid; it can be retried from "
                   "the request's page."), subject=N_("Refund could not be initiated"), quote_label=N_("Error")))

#: Every step the workflow writes in the history, for readers of the history.
STEPS: tuple[Step, ...] = (*TRANSITIONS, SUBMIT, REFUND_INITIATED, REFUND_FAILED)
register(STEPS)

#: Actions that ask the shop to pay (derived from the rows).
REFUND_ACTIONS = frozenset(t.action for t in TRANSITIONS if t.pays)


def find_transition(kind: str, action: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.action == action and kind in t.kinds), None)


def confirm_refund_row(kind: str) -> Transition:
    """The row that confirms a request's refund by hand."""
    return CONFIRM_CANCELLATION_REFUND if kind == RequestKind.CANCELLATION else CONFIRM_RETURN_REFUND


def step_named(action: str, kind: str | None = None, steps: tuple[Step, ...] = STEPS) -> Step | None:
    """The row a history row was written by (its ``action``); the row for
    ``kind`` first, as one action may have a row per kind."""
    found = [s for s in steps if s.action == action]
    return next((s for s in found if kind in getattr(s, "kinds", ())), found[0] if found else None)


def available_actions(user: User | None, request: Request) -> list[tuple[Transition, str]]:
    """The steps ``user`` may take on ``request`` now, with the role for each."""
    roles = roles_on(user, request)
    found = []
    for transition in TRANSITIONS:
        if request.kind not in transition.kinds or request.status not in transition.sources:
            continue
        role = next((r for r in roles if r in transition.roles), None)
        if role is None or (transition.guard and transition.guard(request)):
            continue
        found.append((transition, role))
    return found


def action_label(transition: Transition, request: Request) -> str:
    """The words of a step's button, translated."""
    label = next((words for fits, words in transition.label_variants if fits(request)), transition.label)
    return _(label)
