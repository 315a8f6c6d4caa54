"""The plugin's migrations build exactly the models' schema, and touch nothing else.

Runs on the database under test (``MIRETTE_TEST_DATABASE``). Each test starts
from an empty database and leaves it as the rest of the suite expects it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from flask import Flask

from mirette_returns_plugin import MiretteReturns, migrate
from mirette_returns_plugin.demo.adapter import DemoShopAdapter
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import TABLE_PREFIX, Base as ReturnsBase, utcnow
from tests.conftest import _drop_everything

REPOSITORY = Path(__file__).resolve().parent.parent
PLUGIN_TABLES = set(ReturnsBase.metadata.tables)


@pytest.fixture
def engine(_schema: None, database_url: str) -> Iterator[sa.Engine]:
    """The database under test, emptied; afterwards rebuilt as conftest builds it."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        _drop_everything(connection)
    yield engine
    with engine.begin() as connection:
        _drop_everything(connection)
        db.metadata.create_all(connection)
        ReturnsBase.metadata.create_all(connection)
    engine.dispose()


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def differences(engine: sa.Engine, metadata: sa.MetaData = ReturnsBase.metadata) -> list:
    """Alembic's comparison of the database with ``metadata``, on the plugin's tables."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=migrate.context_options())
        return compare_metadata(context, metadata)


def foreign_keys_in_database(engine: sa.Engine) -> set[tuple]:
    inspector = sa.inspect(engine)
    return {
        (
            table,
            tuple(fk["constrained_columns"]),
            fk["referred_table"],
            tuple(fk["referred_columns"]),
            (fk.get("options", {}).get("ondelete") or "").upper(),
        )
        for table in PLUGIN_TABLES
        for fk in inspector.get_foreign_keys(table)
    }


def foreign_keys_in_models() -> set[tuple]:
    return {
        (
            table.name,
            tuple(column.name for column in fk.columns),
            fk.referred_table.name,
            tuple(element.column.name for element in fk.elements),
            (fk.ondelete or "").upper(),
        )
        for table in ReturnsBase.metadata.tables.values()
        for fk in table.foreign_key_constraints
    }


def test_upgrading_an_empty_database_builds_exactly_the_models_schema(engine: sa.Engine) -> None:
    assert table_names(engine) == set()

    migrate.upgrade(engine=engine)

    assert table_names(engine) == PLUGIN_TABLES | {migrate.VERSION_TABLE}
    # Tables, columns with their types and nullability, indexes, unique
    # constraints and foreign keys: Alembic finds nothing to change.
    assert differences(engine) == []
    # Alembic compares foreign keys by their columns; what a delete does matters too.
    assert foreign_keys_in_database(engine) == foreign_keys_in_models()
    assert migrate.current(engine=engine) == migrate.heads()[0]
    assert migrate.check(engine=engine) == []

    migrate.upgrade(engine=engine)  # a second run finds nothing to do
    assert differences(engine) == []


def test_the_comparison_sees_a_schema_that_differs_from_the_models(engine: sa.Engine) -> None:
    """The test above could fail: a changed model shows up in the comparison."""
    migrate.upgrade(engine=engine)
    changed = sa.MetaData(naming_convention=ReturnsBase.metadata.naming_convention)
    for table in ReturnsBase.metadata.sorted_tables:
        table.to_metadata(changed)
    request = changed.tables[f"{TABLE_PREFIX}request"]
    request.append_column(sa.Column("gift_wrap", sa.String(20)))
    request.c.currency.type = sa.String(8)
    request.c.artist_locale.nullable = False
    outbox = changed.tables[f"{TABLE_PREFIX}outbox"]
    outbox.indexes.remove(next(index for index in outbox.indexes if index.name == "ix_mr_outbox_due"))

    found = differences(engine, changed)

    flat = [item for entry in found for item in (entry if isinstance(entry, list) else [entry])]
    kinds = {(item[0], getattr(item[-1], "name", None) or item[3]) for item in flat}
    assert ("add_column", "gift_wrap") in kinds
    assert ("modify_type", "currency") in kinds
    assert ("modify_nullable", "artist_locale") in kinds
    assert ("remove_index", "ix_mr_outbox_due") in kinds


def test_downgrade_to_base_removes_every_plugin_table_and_leaves_the_shop_alone(engine: sa.Engine) -> None:
    shop = sa.MetaData()
    orders = sa.Table("shop_orders", shop, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("number", sa.String(20)))
    # The shop's own Alembic history, as Flask-Migrate keeps it.
    shop_versions = sa.Table("alembic_version", shop, sa.Column("version_num", sa.String(32), primary_key=True))
    with engine.begin() as connection:
        shop.create_all(connection)
        connection.execute(orders.insert(), [{"number": "MIR-1001"}, {"number": "MIR-1002"}])
        connection.execute(shop_versions.insert(), {"version_num": "shop_0007"})

    migrate.upgrade(engine=engine)
    with engine.begin() as connection:
        locks = ReturnsBase.metadata.tables[f"{TABLE_PREFIX}part_lock"]
        connection.execute(locks.insert(), {"order_ref": "1", "artist_ref": "2", "changes": 1})
        assert connection.execute(sa.select(shop_versions.c.version_num)).scalar_one() == "shop_0007"

    migrate.downgrade("base", engine=engine)

    assert table_names(engine) == {"shop_orders", "alembic_version"}
    with engine.connect() as connection:
        assert connection.execute(sa.select(orders.c.number).order_by(orders.c.id)).scalars().all() == [
            "MIR-1001",
            "MIR-1002",
        ]
        assert connection.execute(sa.select(shop_versions.c.version_num)).scalars().all() == ["shop_0007"]
    assert migrate.current(engine=engine) is None


def shop_app(database_url: str) -> Flask:
    """A shop that mounts the plugin, before any table exists."""
    app = Flask("migrating_shop")
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="migrations", TESTING=True)
    db.init_app(app)
    MiretteReturns(app, adapter=DemoShopAdapter())
    return app


def test_the_db_commands_upgrade_check_and_downgrade(engine: sa.Engine, database_url: str) -> None:
    app = shop_app(database_url)
    runner = app.test_cli_runner()
    try:
        result = runner.invoke(args=["mirette-returns", "db", "current"])
        assert result.exit_code == 0
        assert "no revision" in result.output

        result = runner.invoke(args=["mirette-returns", "db", "check"])
        assert result.exit_code == 1
        assert "Run: flask mirette-returns db upgrade" in result.output

        result = runner.invoke(args=["mirette-returns", "db", "upgrade", "--sql"])
        assert result.exit_code == 0
        assert f"CREATE TABLE {TABLE_PREFIX}request" in result.output
        assert table_names(engine) == set()  # --sql only prints

        result = runner.invoke(args=["mirette-returns", "db", "upgrade"])
        assert result.exit_code == 0, result.output
        head = migrate.heads()[0]
        assert f"revision {head} (newest)" in result.output
        assert table_names(engine) == PLUGIN_TABLES | {migrate.VERSION_TABLE}

        result = runner.invoke(args=["mirette-returns", "db", "check"])
        assert result.exit_code == 0
        assert f"up to date: revision {head}" in result.output

        result = runner.invoke(args=["mirette-returns", "db", "downgrade", "base", "--sql"])
        assert result.exit_code == 0, result.output
        assert f"DROP TABLE {TABLE_PREFIX}request" in result.output
        assert table_names(engine) == PLUGIN_TABLES | {migrate.VERSION_TABLE}

        result = runner.invoke(args=["mirette-returns", "db", "downgrade", "base"])
        assert result.exit_code == 0, result.output
        assert "no revision" in result.output
        assert table_names(engine) == set()
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_alembic_command_runs_the_migrations_from_an_ini_file(
    engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    ini = tmp_path / "mirette_returns.ini"
    ini.write_text(
        "[alembic]\n"
        "script_location = mirette_returns_plugin:migrations\n"
        f"sqlalchemy.url = {database_url.replace('%', '%%')}\n"
    )
    config = Config(str(ini))

    command.upgrade(config, "head")
    assert migrate.current(engine=engine) == migrate.heads()[0]
    assert differences(engine) == []

    command.downgrade(config, "base")
    assert table_names(engine) <= {migrate.VERSION_TABLE}


HOST_APP = '''
import os

import sqlalchemy as sa
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from mirette_returns_plugin import MiretteReturns, migrate
from mirette_returns_plugin.demo.adapter import DemoShopAdapter

db = SQLAlchemy()


class ShopOrder(db.Model):
    __tablename__ = "shop_order"
    id = sa.Column(sa.Integer, primary_key=True)
    number = sa.Column(sa.String(20), nullable=False, unique=True)


app = Flask(__name__)
app.config.update(SQLALCHEMY_DATABASE_URI=os.environ["SHOP_DATABASE_URL"], SECRET_KEY="shop",
                  MAIL_DEFAULT_SENDER="Shop <orders@shop.example>",
                  MIRETTE_RETURNS_EXTERNAL_BASE_URL="https://shop.example")
db.init_app(app)
if os.environ.get("SHOP_SKIPS_PLUGIN_TABLES") == "yes":
    Migrate(app, db, include_name=migrate.skip_plugin_tables)
else:
    Migrate(app, db)
# Stands in for the shop's own adapter: the commands run here never call it.
MiretteReturns(app, adapter=DemoShopAdapter())
'''


def test_a_shop_on_flask_migrate_runs_both_histories_side_by_side(
    engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    """The shop keeps its own Flask-Migrate history; the plugin's lives beside it."""
    (tmp_path / "shop_app.py").write_text(HOST_APP)
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPOSITORY), str(tmp_path)]),
        "SHOP_DATABASE_URL": database_url,
        "SHOP_SKIPS_PLUGIN_TABLES": "yes",
        "FLASK_APP": "shop_app",
    }

    def flask(*args: str, skip_plugin_tables: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**environment, "SHOP_SKIPS_PLUGIN_TABLES": "yes" if skip_plugin_tables else "no"}
        return subprocess.run(
            [sys.executable, "-m", "flask", *args], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    assert flask("db", "init").returncode == 0
    upgraded = flask("mirette-returns", "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    # The shop writes its next revision while the plugin's tables exist.
    generated = flask("db", "migrate", "-m", "shop tables")
    assert generated.returncode == 0, generated.stderr
    [revision_file] = (tmp_path / "migrations" / "versions").glob("*.py")
    revision_text = revision_file.read_text()
    assert "'shop_order'" in revision_text
    assert TABLE_PREFIX not in revision_text
    applied = flask("db", "upgrade")
    assert applied.returncode == 0, applied.stderr

    assert table_names(engine) == PLUGIN_TABLES | {migrate.VERSION_TABLE, "alembic_version", "shop_order"}
    shop_check = flask("db", "check")
    assert shop_check.returncode == 0, shop_check.stderr
    assert "No new upgrade operations detected" in shop_check.stdout + shop_check.stderr
    assert migrate.check(engine=engine) == []
    with engine.connect() as connection:
        shop_revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    assert shop_revision in revision_file.name
    assert migrate.current(engine=engine) == migrate.heads()[0]

    # Without skip_plugin_tables the shop's autogenerate would drop the plugin's tables.
    unaware = flask("db", "check", skip_plugin_tables=False)
    assert unaware.returncode != 0
    assert "remove_table" in unaware.stdout + unaware.stderr


#: A request row as the first revisions hold it (the columns without a default).
OLD_REQUEST = dict(kind="return", status="requested", version=1, order_ref="1", order_number="MIR-1",
                   artist_email="a@example.com", buyer_ref="9", buyer_name="Camille", buyer_email="c@example.com",
                   currency="EUR", quantity=1, refund_items=0, refund_delivery=0, refund_restocking_fee=0,
                   refund_total=0, escalated=False, created_at=sa.func.now(), last_activity_at=sa.func.now(),
                   unit_price=0, policy_restocking_fee_percent=0, converted_from_exchange=False,
                   policy_return_shipping_paid_by="buyer", policy_refunds_delivery=False, policy_window_days=14)


def test_the_artists_table_is_filled_from_the_requests_already_there(engine: sa.Engine) -> None:
    migrate.upgrade("mirette_returns_0001", engine=engine)
    columns = OLD_REQUEST
    requests = sa.Table("mirette_returns_request", sa.MetaData(), autoload_with=engine)
    needed = {column.name for column in requests.columns if not column.nullable and column.default is None
              and column.server_default is None and not column.primary_key}
    rows = [dict(artist_ref="7", artist_name="Atelier Lune (old name)"),
            dict(artist_ref="8", artist_name="Bois & Fil"),
            dict(artist_ref="7", artist_name="Atelier Lune")]
    with engine.begin() as connection:
        for row in rows:
            values = {**{key: value for key, value in columns.items() if key in requests.c}, **row}
            assert needed <= set(values), needed - set(values)
            connection.execute(requests.insert().values(values))

    migrate.upgrade(engine=engine)

    with engine.connect() as connection:
        found = connection.execute(sa.text(
            "select ref, name, name_key from mirette_returns_artist order by ref")).all()
    assert [tuple(row) for row in found] == [("7", "Atelier Lune", "atelier lune"), ("8", "Bois & Fil", "bois & fil")]
    assert differences(engine) == []


def test_amounts_already_stored_keep_their_value_and_gain_a_third_decimal(engine: sa.Engine) -> None:
    migrate.upgrade("mirette_returns_0002", engine=engine)
    requests = sa.Table("mirette_returns_request", sa.MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        connection.execute(requests.insert().values(
            {**OLD_REQUEST, "artist_ref": "7", "artist_name": "Atelier Lune", "unit_price": Decimal("12.34"),
             "refund_items": Decimal("12.34"), "refund_total": Decimal("25.38")}))

    migrate.upgrade(engine=engine)

    # Read through the models' types, as the plugin does.
    table = ReturnsBase.metadata.tables[f"{TABLE_PREFIX}request"]
    with engine.begin() as connection:
        assert connection.execute(sa.select(table.c.unit_price, table.c.refund_total)).one() == (
            Decimal("12.34"), Decimal("25.38"))
        connection.execute(table.update().values(currency="KWD", refund_total=Decimal("11.115")))
        assert connection.execute(sa.select(table.c.refund_total)).scalar_one() == Decimal("11.115")
    assert differences(engine) == []


def test_emails_queued_before_the_facts_keep_their_written_words(engine: sa.Engine) -> None:
    migrate.upgrade("mirette_returns_0007", engine=engine)
    outbox = sa.Table("mirette_returns_outbox", sa.MetaData(), autoload_with=engine)
    written = {"event_key": "history-1:buyer", "recipient": "camille@example.org", "locale": "fr",
               "subject": "Commande MIR-1004 : Acceptée", "body_text": "Bonjour Camille,\n",
               "body_html": "<p>Bonjour Camille,</p>", "message_id": "<m@shop.example>",
               "thread_id": "<t@shop.example>", "state": "pending", "attempts": 0,
               "created_at": datetime(2026, 12, 1), "next_attempt_at": datetime(2026, 12, 1)}
    with engine.begin() as connection:
        connection.execute(outbox.insert().values(written))

    migrate.upgrade(engine=engine)

    table = ReturnsBase.metadata.tables[f"{TABLE_PREFIX}outbox"]
    with engine.begin() as connection:
        kept = connection.execute(sa.select(table.c.subject, table.c.body_text, table.c.facts)).one()
        assert tuple(kept) == ("Commande MIR-1004 : Acceptée", "Bonjour Camille,\n", None)
        # A new email keeps its facts alone.
        connection.execute(table.insert().values(
            {**written, "event_key": "history-2:buyer", "subject": None, "body_text": None, "body_html": None,
             "created_at": utcnow(), "next_attempt_at": utcnow(),
             "facts": {"version": 1, "request": {"order_number": "MIR-1004"}}}))
        assert connection.execute(sa.select(table.c.facts).where(table.c.event_key == "history-2:buyer")
                                  ).scalar_one()["request"] == {"order_number": "MIR-1004"}
    assert differences(engine) == []

    migrate.downgrade("mirette_returns_0007", engine=engine)
    with engine.connect() as connection:
        assert connection.execute(sa.text("select event_key from mirette_returns_outbox")).scalars().all() == [
            "history-1:buyer"], "an email without its words cannot stay below 0008"
