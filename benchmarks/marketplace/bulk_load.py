"""The bulk-load path into the plugin's tables (and the demo shop's).

Rows are written with explicit ids, ``COPY`` on PostgreSQL and multi-row
``INSERT`` elsewhere; then the sequences are moved past the ids written and
the tables analysed. ``benchmarks/README.md`` ("Loading history in bulk")
lists what the rows must hold for the plugin to read them as it reads its
own: this module only writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timezone

import sqlalchemy as sa

from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Base as ReturnsBase, UTCDateTime

#: Rows per ``INSERT`` (or per progress step of a ``COPY``).
CHUNK = 5000


def all_tables() -> tuple[sa.Table, ...]:
    return (*db.metadata.sorted_tables, *ReturnsBase.metadata.sorted_tables)


class BulkWriter:
    """Writes rows in bulk: ``COPY`` on PostgreSQL, multi-row ``INSERT`` elsewhere."""

    def __init__(self, connection: sa.Connection, advance: Callable[[int, str], None]) -> None:
        self.connection = connection
        self.advance = advance
        self.copy = connection.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}

    def write(self, table: sa.Table, rows: Iterable[dict]) -> None:
        batch: list[dict] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                self._flush(table, batch)
                batch = []
        if batch:
            self._flush(table, batch)

    def _flush(self, table: sa.Table, rows: list[dict]) -> None:
        if self.copy:
            self._copy(table, rows)
        else:
            self.connection.execute(table.insert(), rows)
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        self.advance(len(rows), table.name)

    def _copy(self, table: sa.Table, rows: list[dict]) -> None:
        from psycopg import sql

        columns = list(rows[0])
        # COPY bypasses SQLAlchemy's types: store naive UTC as UTCDateTime does.
        is_time = [isinstance(table.c[name].type, (UTCDateTime, sa.DateTime)) for name in columns]
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
        raw = self.connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([
                    value.astimezone(timezone.utc).replace(tzinfo=None) if time and value is not None else value
                    for value, time in zip(row.values(), is_time, strict=False)
                ])


def next_ids(connection: sa.Connection) -> dict[str, int]:
    """The next free id of each table of the shop and the plugin."""
    found = {}
    for table in all_tables():
        if "id" in table.c:
            found[table.name] = (connection.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
    return found


def reset_sequences(connection: sa.Connection, written: Iterable[str]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the data."""
    if connection.dialect.name != "postgresql":
        return
    tables = {t.name: t for t in all_tables()}
    for name in written:
        table = tables[name]
        if "id" not in table.c:
            continue
        connection.execute(sa.select(sa.func.setval(
            sa.func.pg_get_serial_sequence(name, "id"), sa.select(sa.func.max(table.c.id)).scalar_subquery()
        )))


def analyse(engine: sa.Engine) -> None:
    """Fresh statistics on PostgreSQL, so the planner knows the tables' new sizes."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
