"""What a step tells, and whom: the part of a step's row that the emails and
the timeline read.

A step (a row of ``workflow.TRANSITIONS``, or a row the workflow writes on its
own such as ``submit``) carries its :class:`Words` and who is told of it.
The mail and the pages receive the row itself; nothing looks words up by
the name of an action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .domain import Role
from .i18n import N_

if TYPE_CHECKING:
    from datetime import datetime

    from .models import HistoryEntry, Request

#: Whether a variant of the words fits this request and history row.
When = Callable[["Request", "HistoryEntry | None"], bool]
#: Lines a step adds to its email's facts table: ``(label, value)``, translated;
#: given the request (its values when queued) and the step's ``moment``.
Facts = Callable[[Any, "datetime | None"], "list[tuple[str, str]]"]
#: A date a step's email names, read from the request when the step is taken.
Moment = Callable[["Request"], "datetime | None"]


@dataclass(frozen=True)
class Words:
    """What a step says, in English, translated when shown.

    ``%(actor)s`` is whoever took the step; ``%(buyer)s``, ``%(artist)s``,
    ``%(item)s``, ``%(quantity)s``, ``%(number)s``, ``%(amount)s`` and
    ``%(estimate)s`` are filled in too.
    """

    #: The timeline's sentence, after the actor's name.
    timeline: str
    #: The email's first sentence.
    headline: str
    #: The email's subject; ``None``: the new status names it.
    subject: str | None = None
    #: The headline the buyer reads instead, where it adds what they may do.
    buyer_headline: str | None = None
    #: The request's column the email quotes; ``None``: the history row's note.
    quote: str | None = None
    quote_label: str = N_("Note")

    def but(self, **changes: str | None) -> Words:
        """These words with some of them changed (a variant)."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class Step:
    """A step as it is told: its name in the history, its words, who hears of it."""

    #: The name written in the history row.
    action: str
    words: Words
    #: Words for some requests: the first whose test passes wins.
    variants: tuple[tuple[When, Words], ...] = ()
    #: Who is told; whoever took the step is always left out.
    told: tuple[Role, ...] = ()
    #: The email template (``<template>.txt`` and ``.html``).
    template: str = "update"
    #: The email shows the refund's amount.
    shows_refund: bool = False
    #: The request's column holding the tracking number the email shows.
    tracking_column: str | None = None
    #: More lines for the email's facts table.
    facts: Facts | None = None
    #: A date the email names, kept with the email's facts when it is queued.
    moment: Moment | None = None

    def words_for(self, request: Request, entry: HistoryEntry | None = None) -> Words:
        return next((words for when, words in self.variants if when(request, entry)), self.words)


#: Every step that writes history rows, registered by the modules that hold
#: the rows: the delivery worker finds a queued email's step again by its
#: action and the request's kind, without importing the workflow.
_REGISTERED: list[Step] = []


def register(steps: tuple[Step, ...]) -> None:
    """Make ``steps`` findable by :func:`registered_step` (each once)."""
    _REGISTERED.extend(step for step in steps if step not in _REGISTERED)


def registered_step(action: str, kind: str | None) -> Step | None:
    """The row a history row was written by: the one for ``kind`` first, as
    one action may have a row per kind."""
    found = [step for step in _REGISTERED if step.action == action]
    return next((step for step in found if kind in getattr(step, "kinds", ())), found[0] if found else None)
