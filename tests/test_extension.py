"""Mounting the plugin the Flask-extension way: ``MiretteReturns(app)`` or ``init_app``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask_sqlalchemy import SQLAlchemy

from mirette_returns_plugin import ConfigurationError, MiretteReturns, config as defaults
from mirette_returns_plugin.demo.adapter import DemoShopAdapter
from mirette_returns_plugin.demo.models import Account, db
from mirette_returns_plugin.models import TABLE_PREFIX, Base as ReturnsBase, PartLock
from mirette_returns_plugin.state import PluginState, current_state

REPOSITORY = Path(__file__).resolve().parent.parent
HTMX = "mirette_returns/htmx-4.0.1.min.js"


def bare_shop(tmp_path: Path, name: str = "shop", **config: object) -> Flask:
    """A shop with Flask-SQLAlchemy set up, the plugin not yet mounted."""
    app = Flask(name, instance_path=str(tmp_path / name))
    app.config.update(
        SECRET_KEY="extension-tests",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / name}.sqlite3",
        # What a shop must say before mounting outside debug and testing.
        MAIL_DEFAULT_SENDER="Shop <orders@shop.example>",
        SERVER_NAME="shop.example",
        TRUSTED_HOSTS=["shop.example"],
        **config,
    )
    db.init_app(app)
    return app


class HalfAdapter:
    """An adapter that forgot two methods."""

    def current_user(self) -> None:
        return None

    def get_order(self, order_ref: str) -> None:
        return None


def test_init_app_registers_the_plugin_in_app_extensions(tmp_path: Path) -> None:
    app = bare_shop(tmp_path)
    adapter = DemoShopAdapter()

    returns = MiretteReturns(app, adapter=adapter)

    state = app.extensions["mirette_returns"]
    assert isinstance(state, PluginState)
    assert state.adapter is adapter
    assert state.db is db
    assert "mirette_returns" in app.blueprints
    with app.test_request_context():
        assert current_state() is state
        # The plugin writes through the shop's session: one transaction for both.
        assert current_state().session is db.session
    assert not hasattr(returns, "app")
    assert all(not isinstance(value, Flask) for value in vars(returns).values())


def test_a_second_registration_on_the_same_app_is_refused(tmp_path: Path) -> None:
    app = bare_shop(tmp_path)
    first = DemoShopAdapter()
    returns = MiretteReturns(app, adapter=first)

    with pytest.raises(RuntimeError, match="already mounted"):
        returns.init_app(app, adapter=DemoShopAdapter())
    with pytest.raises(RuntimeError, match="already mounted"):
        MiretteReturns(app, adapter=DemoShopAdapter())

    assert app.extensions["mirette_returns"].adapter is first


def test_one_extension_object_serves_two_apps_each_with_its_adapter_and_prefix(tmp_path: Path) -> None:
    """The app-factory pattern: one module-level object, ``init_app`` per app."""
    returns = MiretteReturns()
    adapter_one, adapter_two = DemoShopAdapter(), DemoShopAdapter()

    one = bare_shop(tmp_path, "one")
    returns.init_app(one, adapter=adapter_one)
    two = bare_shop(tmp_path, "two", MIRETTE_RETURNS_URL_PREFIX="/after-sales")
    returns.init_app(two, adapter=adapter_two)

    with one.test_request_context():
        assert current_state().adapter is adapter_one
        assert url_for("mirette_returns.static", filename=HTMX) == f"/returns/static/{HTMX}"
    with two.test_request_context():
        assert current_state().adapter is adapter_two
        assert url_for("mirette_returns.static", filename=HTMX) == f"/after-sales/static/{HTMX}"

    # Each app serves the plugin's files under its own prefix, and only there.
    with two.test_client().get(f"/after-sales/static/{HTMX}") as served:
        assert served.status_code == 200
        assert b"htmx" in served.data
    with two.test_client().get(f"/returns/static/{HTMX}") as missing:
        assert missing.status_code == 404
    with one.test_client().get(f"/returns/static/{HTMX}") as also_served:
        assert also_served.data == served.data
    assert not hasattr(returns, "app")


def test_the_adapter_given_to_the_constructor_serves_a_later_init_app(tmp_path: Path) -> None:
    adapter = DemoShopAdapter()
    returns = MiretteReturns(adapter=adapter)
    app = bare_shop(tmp_path)

    returns.init_app(app)

    assert app.extensions["mirette_returns"].adapter is adapter


def test_every_setting_gets_its_default_and_a_shop_setting_wins(tmp_path: Path) -> None:
    app = bare_shop(tmp_path, MIRETTE_RETURNS_URL_PREFIX="/service", MIRETTE_RETURNS_PAGE_SIZE=7)

    MiretteReturns(app, adapter=DemoShopAdapter())

    assert defaults.URL_PREFIX == "/returns"
    for key, default in defaults.DEFAULTS.items():
        assert key.startswith("MIRETTE_RETURNS_")
        if key not in ("MIRETTE_RETURNS_URL_PREFIX", "MIRETTE_RETURNS_PAGE_SIZE"):
            assert app.config[key] == default, key
    assert app.config["MIRETTE_RETURNS_URL_PREFIX"] == "/service"
    assert app.config["MIRETTE_RETURNS_PAGE_SIZE"] == 7
    settings = app.extensions["mirette_returns"].config
    assert settings["URL_PREFIX"] == "/service"
    assert settings["PAGE_SIZE"] == 7
    assert any(rule.rule.startswith("/service/") for rule in app.url_map.iter_rules())


def documented_settings() -> dict[str, str]:
    """``NAME -> its #: comment`` for each setting in config.py."""
    source = (REPOSITORY / "mirette_returns_plugin" / "config.py").read_text()
    lines = source.splitlines()
    found = {}
    for node in ast.parse(source).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if not isinstance(target, ast.Name) or not target.id.isupper() or target.id == "DEFAULTS":
            continue
        comment = []
        line = node.lineno - 2
        while line >= 0 and lines[line].startswith("#:"):
            comment.insert(0, lines[line][2:].strip())
            line -= 1
        found[target.id] = " ".join(comment)
    return found


def test_every_setting_is_documented_in_config_py_and_in_the_install_guide() -> None:
    documented = documented_settings()
    names = {key[len("MIRETTE_RETURNS_"):] for key in defaults.DEFAULTS}

    assert set(documented) == names
    undocumented = [name for name, comment in documented.items() if not comment]
    assert undocumented == [], "give each setting its own #: comment in config.py"
    guide = (REPOSITORY / "docs" / "install.md").read_text()
    in_guide = set(re.findall(r"`MIRETTE_RETURNS_([A-Z0-9_]+)`", guide))
    assert names - in_guide == set(), "add these settings to the table in docs/install.md"
    assert in_guide - names == set(), "docs/install.md names settings that do not exist"


def test_mounting_without_an_adapter_says_how_to_give_one(tmp_path: Path) -> None:
    app = bare_shop(tmp_path)

    with pytest.raises(ConfigurationError) as raised:
        MiretteReturns(app)

    assert "adapter=" in str(raised.value)
    assert "mirette_returns" not in app.extensions
    assert "mirette_returns" not in app.blueprints


def test_an_adapter_missing_methods_is_refused_with_their_names(tmp_path: Path) -> None:
    app = bare_shop(tmp_path)

    with pytest.raises(ConfigurationError) as raised:
        MiretteReturns(app, adapter=HalfAdapter())

    message = str(raised.value)
    assert "HalfAdapter" in message
    assert "get_artist" in message
    assert "initiate_refund" in message
    assert "current_user" not in message
    assert "mirette_returns" not in app.extensions


def test_mounting_before_flask_sqlalchemy_says_to_set_it_up_first(tmp_path: Path) -> None:
    app = Flask("no_database", instance_path=str(tmp_path))

    with pytest.raises(ConfigurationError) as raised:
        MiretteReturns(app, adapter=DemoShopAdapter())

    assert "db.init_app(app)" in str(raised.value)
    assert "mirette_returns" not in app.extensions

    # Fixed as the message says, the plugin mounts.
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'fixed.sqlite3'}"
    SQLAlchemy().init_app(app)
    # Then the emails' sender and links, named in one message.
    with pytest.raises(ConfigurationError, match=r"MAIL_DEFAULT_SENDER.*MIRETTE_RETURNS_EXTERNAL_BASE_URL"):
        MiretteReturns(app, adapter=DemoShopAdapter())
    app.config.update(MAIL_DEFAULT_SENDER="Shop <orders@shop.example>",
                      MIRETTE_RETURNS_EXTERNAL_BASE_URL="https://shop.example")
    MiretteReturns(app, adapter=DemoShopAdapter())
    assert "mirette_returns" in app.extensions


def test_a_url_prefix_without_a_leading_slash_is_refused(tmp_path: Path) -> None:
    app = bare_shop(tmp_path, MIRETTE_RETURNS_URL_PREFIX="returns")

    with pytest.raises(ConfigurationError, match="must start with '/'"):
        MiretteReturns(app, adapter=DemoShopAdapter())


def test_the_plugin_keeps_to_its_own_prefixed_tables() -> None:
    assert ReturnsBase.metadata is not db.metadata
    assert len(ReturnsBase.metadata.tables) >= 7
    for table in ReturnsBase.metadata.tables.values():
        assert table.name.startswith(TABLE_PREFIX), table.name
        assert table.name not in db.metadata.tables
        for foreign_key in table.foreign_keys:
            referred = foreign_key.column.table
            # Never into the shop's tables: those are referred to by a string ref.
            assert referred.name.startswith(TABLE_PREFIX), (table.name, referred.name)
            assert referred.metadata is ReturnsBase.metadata


def test_the_plugin_and_the_shop_commit_or_roll_back_together(app: Flask) -> None:
    with app.app_context():
        session = current_state().session
        assert session is db.session

        session.add(Account(name="Rolled Back", email="rolled@back.example"))
        session.add(PartLock(order_ref="rolled", artist_ref="back"))
        session.flush()
        session.rollback()
        assert db.session.scalar(sa.select(Account).where(Account.email == "rolled@back.example")) is None
        assert db.session.scalar(sa.select(PartLock).where(PartLock.order_ref == "rolled")) is None

        session.add(Account(name="Kept", email="kept@together.example"))
        session.add(PartLock(order_ref="kept", artist_ref="together"))
        session.commit()
        db.session.remove()
        assert db.session.scalar(sa.select(Account.name).where(Account.email == "kept@together.example")) == "Kept"
        assert db.session.scalar(sa.select(PartLock.artist_ref).where(PartLock.order_ref == "kept")) == "together"
        db.session.remove()
