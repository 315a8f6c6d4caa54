"""Traps for the shop: the demo's published secret key, CSRF turned off, an
insecure session cookie; refused or said at mount time."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from flask import Flask

from mirette_returns_plugin import ConfigurationError, MiretteReturns
from mirette_returns_plugin.demo import instance_secret_key
from mirette_returns_plugin.demo.adapter import DemoShopAdapter
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.deployment import PUBLIC_SECRET_KEYS
from tests.pagekit import another_app

DEMO_KEY = "demo-only-secret-key"
PRODUCTION = {"SESSION_COOKIE_SECURE": True, "WTF_CSRF_ENABLED": True}


def mount(tmp_path: Path, **config) -> Flask:
    app = Flask("shop", instance_path=str(tmp_path))
    app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                      MAIL_DEFAULT_SENDER="Shop <shop@shop.example>",
                      MIRETTE_RETURNS_EXTERNAL_BASE_URL="https://shop.example", **config)
    db.init_app(app)
    MiretteReturns(app, adapter=DemoShopAdapter())
    return app


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mirette_returns_plugin" and r.levelname == "WARNING"]


def test_the_demos_published_key_is_refused_in_production(tmp_path):
    assert DEMO_KEY in PUBLIC_SECRET_KEYS
    for key in (DEMO_KEY, DEMO_KEY.encode()):
        with pytest.raises(ConfigurationError, match="SECRET_KEY is the demo shop's published key"):
            mount(tmp_path, SECRET_KEY=key, **PRODUCTION)
    # In debug or in tests it is tolerated; a key of the shop's own always is.
    assert mount(tmp_path / "debug", SECRET_KEY=DEMO_KEY, DEBUG=True, **PRODUCTION)
    assert mount(tmp_path / "testing", SECRET_KEY=DEMO_KEY, TESTING=True, **PRODUCTION)
    assert mount(tmp_path / "own", SECRET_KEY="a-long-random-key-of-the-shop", **PRODUCTION)


def test_the_demo_makes_its_own_key_and_keeps_it(tmp_path, monkeypatch):
    first = instance_secret_key(tmp_path)
    assert len(first) == 64 and first not in PUBLIC_SECRET_KEYS
    assert instance_secret_key(tmp_path) == first  # the same after a restart
    assert stat.S_IMODE((tmp_path / "demo-secret-key").stat().st_mode) == 0o600
    (tmp_path / "other").mkdir()
    assert instance_secret_key(tmp_path / "other") != first  # no two demos share a key


def test_the_demo_starts_outside_debug_and_testing(app_config, app, monkeypatch, caplog):
    """``make demo`` runs ``flask run`` without debug: the demo still starts, with its own key."""
    monkeypatch.delenv("DEMO_SECRET_KEY", raising=False)
    production = {**app_config, "TESTING": False, "DEBUG": False, "MIRETTE_RETURNS_EXTERNAL_BASE_URL": "http://shop.test"}
    with another_app(production) as demo:
        assert demo.config["SECRET_KEY"] not in PUBLIC_SECRET_KEYS
        assert demo.config["SECRET_KEY"] == instance_secret_key(Path(demo.instance_path))
    # Over plain HTTP on 127.0.0.1 the demo's session cookie is not secure: said, not refused.
    assert any("SESSION_COOKIE_SECURE is off" in message for message in warnings_of(caplog))


def test_csrf_turned_off_is_said_at_mount_time(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="mirette_returns_plugin"):
        mount(tmp_path / "off", SECRET_KEY="k" * 32, TESTING=True, WTF_CSRF_ENABLED=False)
    assert any("WTF_CSRF_ENABLED is off" in message for message in warnings_of(caplog))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mirette_returns_plugin"):
        mount(tmp_path / "on", SECRET_KEY="k" * 32, **PRODUCTION)
    assert warnings_of(caplog) == []


def test_an_insecure_session_cookie_is_said_outside_debug_and_testing(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="mirette_returns_plugin"):
        mount(tmp_path / "production", SECRET_KEY="k" * 32, WTF_CSRF_ENABLED=True)
    [warning] = warnings_of(caplog)
    assert "SESSION_COOKIE_SECURE is off" in warning and "HTTPS" in warning
    for relaxed in ({"DEBUG": True}, {"TESTING": True}):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="mirette_returns_plugin"):
            mount(tmp_path / str(relaxed), SECRET_KEY="k" * 32, WTF_CSRF_ENABLED=True, **relaxed)
        assert warnings_of(caplog) == []
