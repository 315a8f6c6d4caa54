"""What a proposed mount is made of: each choice with its options, the ``XxxMap`` blocks, the survey of the shop.

:mod:`.proposal` fills a :class:`Proposal` from a :class:`Survey`;
:mod:`.writer` writes it out and :mod:`.command` asks about its guesses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask
from flask_sqlalchemy.session import Session
from sqlalchemy.orm import scoped_session

from . import shop_pages, stages
from .inventory import ModelInfo, read_models


@dataclass
class Option:
    source: str
    why: str
    label: str = ""


@dataclass
class Choice:
    key: str
    question: str
    options: list[Option]
    chosen: int = 0
    unsure: bool = False
    #: For a stage: the shop's value, as Python source.
    value_source: str = ""

    @property
    def picked(self) -> Option:
        return self.options[self.chosen]

    @property
    def comment(self) -> str:
        others = [o.label or o.source for i, o in enumerate(self.options) if i != self.chosen]
        text = self.picked.why
        if others:
            text += f". Other candidates: {', '.join(others[:4])}"
        return f"CHECK: {text}" if self.unsure else text


@dataclass
class Block:
    """One ``XxxMap(...)`` argument of the ``ShopMapping``."""

    argument: str
    constructor: str
    #: (field name or ``None`` for the positional model, the choice).
    entries: list[tuple[str | None, Choice]] = field(default_factory=list)
    #: Guesses that could not be made, written as CHECK comments.
    notes: list[str] = field(default_factory=list)


@dataclass
class Survey:
    """What was read from the shop, once."""

    app: Flask
    models: list[ModelInfo]
    session: scoped_session[Session]
    _distinct: dict[tuple[str, str], dict[object, int]] = field(default_factory=dict)

    def counts(self, model: ModelInfo, column: str) -> dict[object, int]:
        key = (model.name, column)
        if key not in self._distinct:
            self._distinct[key] = stages.distinct_values(self.session, model, column)
        return self._distinct[key]

    def distinct(self, model: ModelInfo, column: str) -> list[object]:
        return list(self.counts(model, column))

    def model(self, name: str) -> ModelInfo:
        return next(m for m in self.models if m.name == name)


def survey(app: Flask) -> Survey:
    db = app.extensions.get("sqlalchemy")
    if db is None:
        raise LookupError("The app has no Flask-SQLAlchemy: call db.init_app(app) in the app factory first.")
    return Survey(app=app, models=read_models(db), session=db.session)


@dataclass
class Proposal:
    choices: list[Choice] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    #: Top-level ``ShopMapping`` arguments after the blocks: (name, choice).
    extras: list[tuple[str, Choice]] = field(default_factory=list)
    stage_choices: list[Choice] = field(default_factory=list)
    #: module -> names the generated file imports from the shop.
    shop_imports: dict[str, set[str]] = field(default_factory=dict)
    other_imports: set[str] = field(default_factory=set)
    settings: dict[str, str] = field(default_factory=dict)
    #: Setting -> why it is proposed (comment lines above it).
    settings_why: dict[str, list[str]] = field(default_factory=dict)
    order_template: shop_pages.OrderTemplate | None = None
    button_ref: str = "order.id"
    uses_money: bool = False
    uses_constant: bool = False
    #: A comment above the stages, when their list may be incomplete.
    stages_note: str = ""
    marketplace_without_parts: bool = False

    def choose(self, answers: dict[str, int | str], key: str, question: str, options: list[Option],
               unsure: bool = False) -> Choice:
        answer = answers.get(key, 0)
        if isinstance(answer, str):
            # Typed when asked: the developer's own Python expression.
            options = [Option(answer, "typed when asked"), *options]
            answer = 0
        chosen = min(answer, len(options) - 1)
        choice = Choice(key, question, options, chosen, unsure and key not in answers)
        self.choices.append(choice)
        return choice

    def import_model(self, model: ModelInfo) -> None:
        self.shop_imports.setdefault(model.cls.__module__, set()).add(model.name)

    @property
    def questions(self) -> list[Choice]:
        """The guesses, the ones that change the most first: models, then the stage column and values."""
        def weight(choice: Choice) -> int:
            key = choice.key
            return 0 if key.endswith(".model") else 1 if key.endswith(".stage") else 2 if key.startswith("stage.") \
                else 3
        return sorted((choice for choice in self.choices if choice.unsure), key=weight)
