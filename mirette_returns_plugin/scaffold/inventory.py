"""What the shop's mapped classes hold: columns by kind, and which model each key points at.

A key is a foreign key when the shop declares one; otherwise an integer or
UUID column named like a key (``purchase_id``, ``tea_id``) whose name matches
a model of the same key type. Nothing here guesses a role: that is
:mod:`.roles`' job.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy

#: Key names that mean "the person" whatever the user model is called.
PERSON_KEYS = ("user", "buyer", "customer", "member", "account", "client", "owner")


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    #: ``int``, ``uuid``, ``text``, ``numeric``, ``float``, ``bool``, ``datetime``, ``date``, ``enum``, ``other``
    kind: str
    primary_key: bool = False
    unique: bool = False
    #: Name of the model this column points at (a foreign key, or a key by its name).
    target: str | None = None
    #: ``True`` when ``target`` comes from a declared foreign key.
    declared: bool = False
    #: The Python enum class of an ``Enum`` column.
    enum_class: type | None = None


@dataclass
class ModelInfo:
    cls: type
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    relationships: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.cls.__name__

    @property
    def table(self) -> str:
        return getattr(self.cls, "__tablename__", "") or ""

    @property
    def primary_key(self) -> ColumnInfo | None:
        keys = [c for c in self.columns.values() if c.primary_key]
        return keys[0] if len(keys) == 1 else None

    def refs(self, target: str | None = None) -> list[ColumnInfo]:
        """Columns pointing at another model (at ``target`` only, when given)."""
        return [c for c in self.columns.values()
                if c.target is not None and not c.primary_key and (target is None or c.target == target)]

    def of_kind(self, *kinds: str) -> list[ColumnInfo]:
        return [c for c in self.columns.values() if c.kind in kinds and not c.primary_key]

    def words(self) -> set[str]:
        """Lower-case words of the class and table names (``ShopOrderLine`` -> shop, order, line)."""
        return set(split_words(self.name)) | set(split_words(self.table))


def split_words(name: str) -> list[str]:
    words, current = [], ""
    for char in name:
        if char in "_- ." or (char.isupper() and current and not current[-1].isupper()):
            if current:
                words.append(current.lower())
            current = "" if char in "_- ." else char
        else:
            current += char
    if current:
        words.append(current.lower())
    return words


def column_kind(column: sa.Column[Any]) -> tuple[str, type | None]:
    column_type = column.type
    if isinstance(column_type, sa.types.TypeDecorator):
        # A shop's own type (a UTC datetime, money in cents) stores as its ``impl``.
        column_type = column_type.impl_instance
    if isinstance(column_type, sa.Enum):
        return "enum", column_type.enum_class
    if isinstance(column_type, sa.Boolean):
        return "bool", None
    if isinstance(column_type, sa.Uuid):
        return "uuid", None
    if isinstance(column_type, (sa.DateTime,)):
        return "datetime", None
    if isinstance(column_type, sa.Date):
        return "date", None
    try:
        python = column_type.python_type
    except NotImplementedError:
        return "other", None
    if python is bool:
        return "bool", None
    if python is int:
        return "int", None
    if python is Decimal:
        return "numeric", None
    if python is float:
        return "float", None
    if python is str:
        return "text", None
    if python is uuid.UUID:
        return "uuid", None
    return "other", None


def read_models(db: SQLAlchemy) -> list[ModelInfo]:
    """Every model of the shop's Flask-SQLAlchemy ``db``, with its columns read."""
    # Flask-SQLAlchemy types db.Model as its own model class, which declares no registry.
    registry: sa.orm.registry = db.Model.registry  # type: ignore[attr-defined]
    classes = sorted({mapper.class_ for mapper in registry.mappers if mapper.local_table is not None},
                     key=lambda cls: cls.__name__)
    models = [_read(cls) for cls in classes]
    by_table = {model.cls.__table__.name: model for model in models if hasattr(model.cls, "__table__")}
    for model in models:
        _link(model, models, by_table)
    return models


def _read(cls: type) -> ModelInfo:
    mapper: sa.orm.Mapper[Any] = sa.inspect(cls)
    info = ModelInfo(cls)
    for key, prop in mapper.column_attrs.items():
        if len(prop.columns) != 1 or not isinstance(prop.columns[0], sa.Column):
            continue
        column = prop.columns[0]
        kind, enum_class = column_kind(column)
        info.columns[key] = ColumnInfo(
            name=key, kind=kind, primary_key=bool(column.primary_key), unique=bool(column.unique),
            enum_class=enum_class)
    for key, relationship in mapper.relationships.items():
        info.relationships[key] = relationship.mapper.class_.__name__
    return info


def _link(model: ModelInfo, models: list[ModelInfo], by_table: dict[str, ModelInfo]) -> None:
    table_columns = {column.key: column for column in model.cls.__table__.columns} \
        if hasattr(model.cls, "__table__") else {}
    for key, info in list(model.columns.items()):
        column = table_columns.get(key)
        declared = next(iter(column.foreign_keys), None) if column is not None else None
        target = None
        if declared is not None:
            target_model = by_table.get(declared.column.table.name)
            target = target_model.name if target_model else None
        elif not info.primary_key and info.kind in ("int", "uuid", "text"):
            target = _target_by_name(key, info.kind, model, models)
        if target is not None:
            model.columns[key] = ColumnInfo(**{**info.__dict__, "target": target, "declared": declared is not None})


def _target_by_name(key: str, kind: str, model: ModelInfo, models: list[ModelInfo]) -> str | None:
    """The model a key-named column points at, when no foreign key says so."""
    for suffix in ("_id", "_uuid", "_key"):
        if key.endswith(suffix):
            stem = key[: -len(suffix)].lower()
            break
    else:
        return None
    same_kind = [m for m in models if m is not model and m.primary_key is not None and m.primary_key.kind == kind]
    for candidate in same_kind:
        names = {candidate.name.lower(), candidate.table.lower(), *split_words(candidate.name)[-1:],
                 *split_words(candidate.table)[-1:]}
        if stem in names or stem.replace("_", "") in names:
            return candidate.name
    if stem in PERSON_KEYS:
        people = [m for m in same_kind if m.words() & set(PERSON_KEYS) or "email" in m.columns]
        if len(people) == 1:
            return people[0].name
    return None
