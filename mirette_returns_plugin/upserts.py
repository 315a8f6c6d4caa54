"""Insert a row, or update it when its key is already there, in one statement.

PostgreSQL and SQLite say ``ON CONFLICT``, MariaDB ``ON DUPLICATE KEY``: one
statement, so two transactions writing the same new key at once neither fail
nor deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.session import Session
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import scoped_session


def upsert(db: scoped_session[Session], table: sa.Table, values: Mapping[str, Any], *, keys: Sequence[str],
           updates: Mapping[str, Any]) -> None:
    """Insert ``values`` into ``table``; where a row has the same ``keys``, set ``updates`` on it.

    In ``updates``, a value may use the table's columns (``table.c.changes + 1``)
    or :func:`incoming` (the value this statement tried to insert).
    """
    dialect = db.get_bind(clause=table.select()).dialect.name
    if dialect in ("mysql", "mariadb"):
        duplicate = mysql.insert(table).values(dict(values))
        db.execute(duplicate.on_duplicate_key_update(
            {name: _resolve(value, duplicate.inserted) for name, value in updates.items()}))
        return
    statement: postgresql.Insert | sqlite.Insert = (
        postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)).values(dict(values))
    db.execute(statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: _resolve(value, statement.excluded) for name, value in updates.items()}))


class incoming:  # noqa: N801  (reads as a value in ``updates``)
    """The value of ``column`` in the row the statement tried to insert."""

    def __init__(self, column: str) -> None:
        self.column = column


def _resolve(value: Any, proposed: Any) -> Any:
    return getattr(proposed, value.column) if isinstance(value, incoming) else value
