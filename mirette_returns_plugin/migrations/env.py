"""Alembic environment of the plugin's own tables.

It is run by :mod:`mirette_returns_plugin.migrate` (and so by
``flask mirette-returns db ...``), which hands it an open connection to the
shop's database. Run by the ``alembic`` command instead, with an ini file whose
``script_location`` is ``mirette_returns_plugin:migrations``, it connects to
that file's ``sqlalchemy.url``, or to the current Flask app's database.

Whoever runs it, it records its revision in ``mirette_returns_alembic_version``
and looks only at tables named ``mirette_returns_*``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from mirette_returns_plugin.migrate import app_engine, context_options

config = context.config


def run_offline() -> None:
    """Print the SQL (``--sql``) instead of running it."""
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        dialect_name=None if url else config.attributes.get("dialect_name") or app_engine().dialect.name,
        literal_binds=True,
        **context_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online(connection: sa.Connection) -> None:
    context.configure(connection=connection, **context_options())
    with context.begin_transaction():
        context.run_migrations()


def run_standalone() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        with app_engine().begin() as connection:
            run_online(connection)
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            run_online(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
elif config.attributes.get("connection") is not None:
    run_online(config.attributes["connection"])
else:
    run_standalone()
