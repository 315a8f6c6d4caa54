"""Shared fixtures: a fresh demo-shop app per test, on the database under test.

``MIRETTE_TEST_DATABASE`` picks the database: ``sqlite`` (default),
``postgresql`` or ``mariadb`` (the servers of ``.ci/run``). Their URLs can be
overridden with ``MIRETTE_TEST_POSTGRESQL_URL`` and ``MIRETTE_TEST_MARIADB_URL``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from mirette_returns_plugin.demo import create_app
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Base as ReturnsBase
from tests import seeded
from tests.shop import login

DATABASE_URLS = {
    "postgresql": os.environ.get(
        "MIRETTE_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
    "mariadb": os.environ.get(
        "MIRETTE_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4"
    ),
}

pytest_plugins = ["tests.fixtures_mail"] if os.path.exists(
    os.path.join(os.path.dirname(__file__), "fixtures_mail.py")
) else []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-browser", action="store_true", default=False,
        help="leave out the end-to-end tests in Chromium (marked 'browser'); the run says how many",
    )


#: How many browser tests ``--no-browser`` left out, for the closing line.
_BROWSER_LEFT_OUT = pytest.StashKey[int]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--no-browser"):
        return
    left_out = [item for item in items if item.get_closest_marker("browser")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("browser")]
    config.stash[_BROWSER_LEFT_OUT] = len(left_out)


def pytest_sessionfinish(session: pytest.Session) -> None:
    # A worker of pytest-xdist tells the main process how many it left out:
    # every worker collects the whole suite, so each counts the same.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None and _BROWSER_LEFT_OUT in session.config.stash:
        workeroutput["browser_left_out"] = session.config.stash[_BROWSER_LEFT_OUT]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    left_out = getattr(node, "workeroutput", {}).get("browser_left_out")
    if left_out is not None:
        node.config.stash[_BROWSER_LEFT_OUT] = left_out


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if _BROWSER_LEFT_OUT in config.stash:
        terminalreporter.write_line(
            f"--no-browser: {config.stash[_BROWSER_LEFT_OUT]} browser tests deselected, not run "
            "(run without --no-browser to include them)", yellow=True, bold=True)


def database_kind() -> str:
    return os.environ.get("MIRETTE_TEST_DATABASE", "sqlite").lower()


#: The marks of a module of races: they need a server database.
RACES = [
    pytest.mark.concurrency,
    pytest.mark.skipif(
        database_kind() == "sqlite",
        reason="races need a server database: SQLite admits one writer at a time, so nothing can race there. "
               "Run with MIRETTE_TEST_DATABASE=postgresql or mariadb (CI does).",
    ),
]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    kind = database_kind()
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    if kind not in DATABASE_URLS:
        raise pytest.UsageError(f"MIRETTE_TEST_DATABASE must be sqlite, postgresql or mariadb, not {kind!r}")
    return DATABASE_URLS[kind]


def all_tables(metadata_list=None) -> list[sa.Table]:
    """Every table of the shop and the plugin, children first."""
    tables = []
    for metadata in (ReturnsBase.metadata, db.metadata):
        tables.extend(reversed(metadata.sorted_tables))
    return tables


@pytest.fixture(scope="session")
def _schema(database_url: str) -> Iterator[None]:
    """Create the schema once per run, from scratch."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        _drop_everything(connection)
        db.metadata.create_all(connection)
        ReturnsBase.metadata.create_all(connection)
    engine.dispose()
    yield


def _drop_everything(connection: sa.Connection) -> None:
    inspector = sa.inspect(connection)
    existing = set(inspector.get_table_names())
    if connection.dialect.name in ("mysql", "mariadb"):
        connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        for name in existing:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS `{name}`")
        connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
    elif connection.dialect.name == "postgresql":
        for name in existing:
            connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
    else:
        meta = sa.MetaData()
        meta.reflect(connection)
        meta.drop_all(connection)


@pytest.fixture
def app_config(database_url: str, tmp_path) -> dict:
    """Config of the app under test; a test module may override this fixture."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DEMO_SEED": False,
        "WTF_CSRF_ENABLED": False,
        "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
        "MIRETTE_RETURNS_PHOTO_DIR": str(tmp_path / "photos"),
        "MIRETTE_RETURNS_REQUESTS_PER_HOUR": 0,
        "MIRETTE_RETURNS_MESSAGES_PER_MINUTE": 0,
        # One email per message, sent at once, unless a test is about gathering them.
        "MIRETTE_RETURNS_MESSAGE_EMAIL_WINDOW": 0,
        "MAIL_SUPPRESS_SEND": True,
        "SERVER_NAME": "shop.test",
    }


@pytest.fixture
def app(_schema, app_config: dict, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """A new demo-shop app, its database emptied and seeded (on SQLite, a copy
    of the database seeded once per process: ``tests/seeded.py``).

    The seeded people read English, the language of the code's words, unless
    the test is marked ``seeded_languages``: then Camille and Atelier Lune read
    French, as in the demo (the tests of the languages themselves).
    """
    english = request.node.get_closest_marker("seeded_languages") is None
    copied = seeded.restore(app_config["SQLALCHEMY_DATABASE_URI"], english=english)
    app = create_app(app_config)
    if not copied:
        with app.app_context():
            with db.engine.begin() as connection:
                for table in all_tables():
                    connection.execute(table.delete())
            seeded.seed_demo(english=english)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """A request context, for calling the workflow directly."""
    with app.test_request_context():
        yield
        db.session.remove()


@pytest.fixture
def client_as(app: Flask):
    """``client_as(email)``: a new test client signed in as that account."""

    def make(email: str | None) -> FlaskClient:
        client = app.test_client()
        return login(client, email) if email else client

    return make
