"""The status column and a stage for each of its values.

The values are read from the database (``SELECT DISTINCT``), and completed
by the shop's own names for them: a Python ``Enum`` of the column, or a class
of integer constants in the model's module (``Status.PAID = 10``). A value's
name (or the text value itself) says its stage; a value nothing names is
placed by its rank among the codes and marked for checking.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass

import sqlalchemy as sa
from flask_sqlalchemy.session import Session
from sqlalchemy.orm import scoped_session

from ..adapter import Stage
from .inventory import ColumnInfo, ModelInfo, split_words

STATUS_NAMES = ("status", "state", "stage")
#: Words in a column's name that make it the likelier stage (shipping beats payment).
SHIPPING_WORDS = {"shipping", "shipment", "fulfillment", "fulfilment", "delivery", "order", "dispatch"}
PAYMENT_WORDS = {"payment", "paid", "pay", "invoice", "refund"}

#: The words that say a stage, most telling first.
STAGE_WORDS: tuple[tuple[Stage, tuple[str, ...]], ...] = (
    (Stage.CANCELLED, ("cancelled", "canceled", "cancel", "refused", "rejected", "void", "voided", "declined",
                       "refunded", "aborted")),
    (Stage.DELIVERED, ("delivered", "completed", "complete", "received", "fulfilled", "done", "collected",
                       "closed", "arrived", "returned")),
    (Stage.SHIPPED, ("shipped", "posted", "dispatched", "sent", "transit", "shipping", "out")),
    (Stage.ACCEPTED, ("accepted", "processing", "packing", "packed", "preparing", "prepared", "confirmed",
                      "picking", "progress", "approved", "ready", "packaging", "being")),
    (Stage.PENDING, ("pending", "paid", "new", "placed", "open", "awaiting", "waiting", "created", "unpaid",
                     "submitted", "received_payment", "authorized", "authorised")),
)

#: Stages by rank, for integer codes that nothing names.
RANKED = (Stage.PENDING, Stage.ACCEPTED, Stage.SHIPPED, Stage.DELIVERED)


@dataclass(frozen=True)
class ValueStage:
    value: object
    #: The value as Python source in the generated file (``10``, ``'paid'``, ``Status.PAID``).
    source: str
    stage: Stage
    why: str
    unsure: bool
    #: How many rows hold it now (``None``: not in the database yet).
    rows: int | None


@dataclass(frozen=True)
class Constants:
    """The shop's names of the codes, to import in the generated file."""

    module: str
    #: The class holding them; ``""`` for constants at the module's top level.
    name: str
    names: dict[object, str]


def status_columns(model: ModelInfo) -> list[ColumnInfo]:
    """The model's status-like columns, likeliest stage first."""
    found = [c for c in model.columns.values()
             if c.kind in ("text", "int", "enum") and not c.primary_key and c.target is None
             and any(word in STATUS_NAMES for word in split_words(c.name))]

    def rank(column: ColumnInfo) -> tuple[int, str]:
        words = set(split_words(column.name))
        return (0 if words & SHIPPING_WORDS else 2 if words & PAYMENT_WORDS else 1, column.name)

    return sorted(found, key=rank)


def distinct_values(session: scoped_session[Session], model: ModelInfo, column: str) -> dict[object, int]:
    """Each value the column holds now, with its row count."""
    attribute = getattr(model.cls, column)
    try:
        rows = session.execute(sa.select(attribute, sa.func.count()).group_by(attribute)).all()
    except sa.exc.SQLAlchemyError:
        # No table yet (a fresh database): the names alone will do.
        session.rollback()
        return {}
    return {value: count for value, count in rows if value is not None}


def constants_for(model: ModelInfo, column: ColumnInfo, values: set[object]) -> Constants | None:
    """The shop's own names of the codes: the column's Enum, or a constants class beside the model."""
    if column.enum_class is not None and issubclass(column.enum_class, enum.Enum):
        members: dict[object, str] = {member: member.name for member in column.enum_class}
        return Constants(column.enum_class.__module__, column.enum_class.__qualname__, members)
    if column.kind != "int":
        return None
    module = sys.modules.get(model.cls.__module__)
    if module is None:
        return None
    column_words = set(split_words(column.name)) - set(STATUS_NAMES)
    found: list[tuple[int, int, Constants]] = []
    # Module-level codes, grouped by their prefix: SHIPPING_SENT = 2 beside PAYMENT_PAID = 1.
    groups: dict[str, dict[object, str]] = {}
    for attr, value in vars(module).items():
        if attr.isupper() and "_" in attr and isinstance(value, int) and not isinstance(value, bool):
            groups.setdefault(attr.split("_", 1)[0], {}).setdefault(value, attr)
    for prefix, names in groups.items():
        if len(names) >= 2 and values <= set(names):
            found.append((len(column_words & {prefix.lower()}), len(names), Constants(module.__name__, "", names)))
    for name, holder in vars(module).items():
        if not isinstance(holder, type) or holder is model.cls:
            continue
        names = {value: attr for attr, value in vars(holder).items()
                 if attr.isupper() and isinstance(value, int) and not isinstance(value, bool)}
        if len(names) < 2 or not values <= set(names):
            continue
        # ShippingStatus for shipping_status, even when PaymentStatus has the same codes.
        found.append((len(column_words & set(split_words(name))), len(names), Constants(module.__name__, name, names)))
    return max(found, key=lambda f: (f[0], f[1]))[2] if found else None


#: Words that turn a stage word around: "not shipped", "unfulfilled" are still to do.
NEGATIONS = ("not", "no", "un", "awaiting", "waiting", "pending", "before", "to")


def stage_of_words(text: str) -> Stage | None:
    words = split_words(str(text))
    if len(words) > 1 and words[0] in NEGATIONS:
        return Stage.PENDING
    if any(word.startswith("un") and stage_of_words(word[2:]) not in (None, Stage.PENDING) for word in words):
        return Stage.PENDING
    for stage, known in STAGE_WORDS:
        if any(word in known for word in words):
            return stage
    return None


def propose(model: ModelInfo, column: ColumnInfo,
            counts: dict[object, int]) -> tuple[list[ValueStage], Constants | None]:
    """A stage for each value the column holds (or that the shop's names list)."""
    constants = constants_for(model, column, set(counts))
    values = list(counts)
    if constants is not None:
        values += [value for value in constants.names if value not in counts]
    if column.enum_class is not None:
        values = [v if isinstance(v, column.enum_class) else _member(column.enum_class, v) for v in values]
        values = [v for v in values if v is not None]
    proposals = []
    unnamed_codes = sorted(v for v in values if isinstance(v, int) and (constants is None or v not in constants.names))
    for value in sorted(values, key=lambda v: (str(type(v)), v if isinstance(v, int) else str(v))):
        rows = counts.get(value)
        if constants is not None and value in constants.names:
            label = constants.names[value]
            source = f"{constants.name}.{label}" if constants.name else label
            said_by = f"named {source}"
        else:
            label = value.name if isinstance(value, enum.Enum) else str(value)
            source = repr(value)
            said_by = f"the value {value!r}"
        # SHIPPING_NOT_SENT says its stage without its group's prefix.
        stage = stage_of_words(label.split("_", 1)[1] if constants is not None and not constants.name
                               and source == label else label)
        if stage is not None:
            # "paid" is the usual first stage; "done" or "closed" could be a cancellation too.
            unsure = label.lower() in ("done", "closed", "completed", "complete", "refunded")
            proposals.append(ValueStage(value, source, stage, f"{said_by} says {stage.value}", unsure, rows))
        elif isinstance(value, int) and value in unnamed_codes:
            stage = RANKED[min(unnamed_codes.index(value), len(RANKED) - 1)]
            proposals.append(ValueStage(value, source, stage, f"nothing names the code {value}: placed by its rank "
                                        f"among the codes", True, rows))
        else:
            proposals.append(ValueStage(value, source, Stage.PENDING, f"no word of {label!r} says a stage", True,
                                        rows))
    return proposals, constants


def _member(enum_class: type, value: object) -> object | None:
    try:
        member: object = enum_class(value)
    except ValueError:
        return getattr(enum_class, str(value), None)
    return member


#: Words of a payment status value that say the money was taken.
PAID_WORDS = {"paid", "captured", "settled", "charged"}


def paid_values(model: ModelInfo, column: ColumnInfo,
                counts: dict[object, int]) -> tuple[list[str], Constants | None]:
    """The values of a payment status column that say the buyer paid, as Python source."""
    if not set(split_words(column.name)) & PAYMENT_WORDS:
        return [], None
    constants = constants_for(model, column, set(counts))
    if constants is not None:
        named = {value: (f"{constants.name}.{label}" if constants.name else label, label)
                 for value, label in constants.names.items()}
    else:
        named = {value: (repr(value), str(value)) for value in counts}
    # "unpaid" and "not_paid" say the opposite.
    found = [source for _value, (source, label) in sorted(named.items(), key=lambda item: str(item[0]))
             if set(split_words(label)) & PAID_WORDS and not set(split_words(label)) & set(NEGATIONS)]
    return found, constants
