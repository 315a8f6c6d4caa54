"""The plugin's database migrations, run against the shop's database.

The plugin's tables (all named ``mirette_returns_*``) have their own Alembic
history, kept in this package, and their own version table,
``mirette_returns_alembic_version``. They never touch the shop's tables or the
shop's own ``alembic_version``, so a shop migrates its tables as it always has
(Flask-Migrate, plain Alembic, anything) and runs the plugin's next to them::

    flask db upgrade                   # the shop's own tables
    flask mirette-returns db upgrade   # the plugin's tables

or, from Python (a deploy script, an app factory), inside an app context::

    from mirette_returns_plugin import migrate
    migrate.upgrade()

A shop whose own autogenerate compares its models with the database must tell
it to look away from the plugin's tables, or it would propose dropping them::

    Migrate(app, db, include_name=migrate.skip_plugin_tables)
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from .errors import ConfigurationError
from .models import TABLE_PREFIX, Base, UTCDateTime

#: The table in which Alembic records the plugin's revision.
VERSION_TABLE = f"{TABLE_PREFIX}alembic_version"

#: The folder holding ``env.py`` and ``versions/``.
SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"

#: Revision ids are ``mirette_returns_0001``, ``mirette_returns_0002``...: never
#: the same as a shop's, even if both histories were ever shown side by side.
REVISION_PREFIX = "mirette_returns_"


def is_plugin_table(name: str | None) -> bool:
    """Whether a table belongs to the plugin (its version table included)."""
    return bool(name) and str(name).startswith(TABLE_PREFIX)


def include_plugin_tables(name: str | None, type_: str, parent_names: Mapping[str, Any]) -> bool:
    """Alembic ``include_name`` hook of the plugin's environment: only its tables."""
    if type_ == "table":
        return is_plugin_table(name) and name != VERSION_TABLE
    return True


def skip_plugin_tables(name: str | None, type_: str, parent_names: Mapping[str, Any]) -> bool:
    """Alembic ``include_name`` hook for a shop's own environment.

    Pass it to Flask-Migrate (``Migrate(app, db, include_name=skip_plugin_tables)``)
    or to ``context.configure`` in the shop's ``env.py`` so that the shop's
    autogenerate never proposes dropping the plugin's tables.
    """
    if type_ == "table":
        return not is_plugin_table(name)
    return True


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write the plugin's own column types as plain SQLAlchemy in new revisions.

    A revision must not import ``models``: the models change, the revision
    must keep describing the schema as it was.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("from sqlalchemy.dialects import mysql")
        return 'sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")'
    return False


def context_options() -> dict[str, Any]:
    """Options of ``context.configure`` shared by env.py and :func:`check`."""
    return {
        "target_metadata": Base.metadata,
        "version_table": VERSION_TABLE,
        "include_name": include_plugin_tables,
        "compare_type": True,
        "compare_server_default": True,
        "render_item": render_item,
        # SQLite alters a table by copying it; new revisions are written so.
        "render_as_batch": True,
    }


def alembic_config(*, stdout: TextIO | None = None) -> Config:
    """An Alembic config for the plugin's history, without any ini file."""
    config = Config(stdout=stdout) if stdout is not None else Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def heads() -> list[str]:
    """The newest revision(s) this version of the plugin ships."""
    return list(script_directory().get_heads())


def app_engine() -> sa.Engine:
    """The engine of the current app's Flask-SQLAlchemy (the shop's database)."""
    database = current_app.extensions.get("sqlalchemy")
    if database is None:
        raise ConfigurationError(
            "mirette-returns migrations run on the shop's Flask-SQLAlchemy database: "
            "call db.init_app(app) first, and run them inside an app context."
        )
    engine: sa.Engine = database.engine
    return engine


@contextmanager
def _connected(config: Config, engine: sa.Engine | None) -> Iterator[sa.Connection]:
    # One transaction for the whole run: on PostgreSQL a failed revision
    # leaves nothing half done. (MariaDB commits each DDL statement anyway.)
    with (engine or app_engine()).begin() as connection:
        config.attributes["connection"] = connection
        yield connection


def upgrade(revision: str = "head", *, engine: sa.Engine | None = None, sql: bool = False) -> str | None:
    """Bring the plugin's tables to ``revision`` (default: the newest).

    With ``sql=True`` nothing is run: the SQL is returned instead, for a shop
    that applies schema changes by hand.
    """
    return _run(command.upgrade, revision, engine=engine, sql=sql)


def downgrade(revision: str = "-1", *, engine: sa.Engine | None = None, sql: bool = False) -> str | None:
    """Step the plugin's tables back to ``revision``.

    ``"base"`` drops every table of the plugin, its version table included.
    """
    if sql and ":" not in revision:
        # Printing the SQL needs a starting point: the database's revision.
        revision = f"{current(engine=engine) or 'base'}:{revision}"
    return _run(command.downgrade, revision, engine=engine, sql=sql)


def _run(step: Any, revision: str, *, engine: sa.Engine | None, sql: bool) -> str | None:
    if sql:
        output = io.StringIO()
        config = alembic_config(stdout=output)
        config.attributes["dialect_name"] = (engine or app_engine()).dialect.name
        config.output_buffer = output
        step(config, revision, sql=True)
        return output.getvalue()
    config = alembic_config()
    with _connected(config, engine) as connection:
        step(config, revision)
        _drop_empty_version_table(connection)
    return None


def _drop_empty_version_table(connection: sa.Connection) -> None:
    # Alembic keeps its version table, empty, after a downgrade to base; the
    # plugin leaves nothing of its own behind.
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return
    version_table = sa.Table(VERSION_TABLE, sa.MetaData(), sa.Column("version_num", sa.String(32)))
    if connection.execute(sa.select(sa.func.count()).select_from(version_table)).scalar_one() == 0:
        version_table.drop(connection)


def current(*, engine: sa.Engine | None = None) -> str | None:
    """The plugin's revision in the database, or ``None`` before the first upgrade."""
    with (engine or app_engine()).connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def check(*, engine: sa.Engine | None = None) -> list[str]:
    """What stands between the database and this version of the plugin.

    An empty list means the tables are at the newest revision and match the
    models exactly; otherwise each item says what differs.
    """
    with (engine or app_engine()).connect() as connection:
        context = MigrationContext.configure(connection, opts=context_options())
        in_database = set(context.get_current_heads())
        shipped = set(heads())
        if in_database != shipped:
            found = ", ".join(sorted(in_database)) or "none"
            return [
                f"The plugin's tables are at revision {found}; this version needs "
                f"{', '.join(sorted(shipped))}. Run: flask mirette-returns db upgrade"
            ]
        return [describe_difference(difference) for difference in compare_metadata(context, Base.metadata)]


def describe_difference(difference: Any) -> str:
    """One line for an item of :func:`alembic.autogenerate.compare_metadata`."""
    if isinstance(difference, list):  # column changes come grouped
        return "; ".join(describe_difference(item) for item in difference)
    operation, *details = difference
    named = [getattr(item, "name", None) or item for item in details if item is not None]
    return f"{operation}: {', '.join(str(item) for item in named)}"


def revision(message: str, *, autogenerate: bool = True, engine: sa.Engine | None = None) -> str:
    """Write a new revision into the package (for the plugin's own developers).

    With ``autogenerate`` the database must be at the newest revision; the new
    file holds what the models add to it. Returns the new file's path.
    """
    existing = [script.revision for script in script_directory().walk_revisions()]
    numbers = [int(rev[len(REVISION_PREFIX):]) for rev in existing if rev[len(REVISION_PREFIX):].isdigit()]
    rev_id = f"{REVISION_PREFIX}{max(numbers, default=0) + 1:04d}"
    config = alembic_config()
    if not autogenerate:
        script = command.revision(config, message=message, rev_id=rev_id)
    else:
        with _connected(config, engine):
            script = command.revision(config, message=message, rev_id=rev_id, autogenerate=True)
    assert script is not None and not isinstance(script, list)
    return str(script.path)
