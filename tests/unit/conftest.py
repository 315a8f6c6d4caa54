"""The unit layer: the plugin's rules and services on a bare Flask app.

Each test gets a ``Flask()`` of its own with Flask-SQLAlchemy on an in-memory
SQLite database holding the plugin's tables only, and the plugin mounted on
:class:`~tests.unit.tiny_shop.TinyShop`, an adapter over a few Python objects.
No demo shop is built or seeded: a test takes milliseconds. Every test here is
marked ``unit`` (``make test-fast`` runs them alone).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from mirette_returns_plugin import MiretteReturns
from mirette_returns_plugin.models import Base as ReturnsBase

from .tiny_shop import SEEDED_LANGUAGES, TinyShop

UNIT = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A hook of this file sees every item of the run: mark those of this folder.
    for item in items:
        if UNIT in Path(item.path).parents:
            item.add_marker(pytest.mark.unit)


@pytest.fixture
def shop(request: pytest.FixtureRequest) -> TinyShop:
    """The tiny shop the plugin is mounted on, its orders as the demo seeds them.

    Every one reads English unless the test is marked ``seeded_languages``:
    then Camille, Atelier Lune and Verre Soufflé read French, as in the demo.
    """
    if request.node.get_closest_marker("seeded_languages") is not None:
        return TinyShop(languages=dict(SEEDED_LANGUAGES))
    return TinyShop()


@pytest.fixture
def unit_config(tmp_path: Path) -> dict:
    """Config of the bare app; a test module may override this fixture."""
    return {
        "TESTING": True,
        "SECRET_KEY": "unit",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SERVER_NAME": "shop.test",
        "MAIL_SUPPRESS_SEND": True,
        "MAIL_DEFAULT_SENDER": "Mirette <no-reply@mirette.example>",
        "MIRETTE_RETURNS_SHOP_NAME": "Mirette",
        "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
        "MIRETTE_RETURNS_PHOTO_DIR": str(tmp_path / "photos"),
        "MIRETTE_RETURNS_REQUESTS_PER_HOUR": 0,
        "MIRETTE_RETURNS_MESSAGES_PER_MINUTE": 0,
        "MIRETTE_RETURNS_MESSAGE_EMAIL_WINDOW": 0,
    }


@pytest.fixture
def app(shop: TinyShop, unit_config: dict) -> Iterator[Flask]:
    """A bare Flask app: the plugin's tables in memory, the tiny shop mounted."""
    app = Flask(__name__)
    app.config.update(unit_config)
    db = SQLAlchemy()
    db.init_app(app)
    MiretteReturns(app, adapter=shop)
    with app.app_context():
        ReturnsBase.metadata.create_all(db.engine)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """A request context, for calling the plugin's services directly."""
    with app.test_request_context():
        yield
        app.extensions["sqlalchemy"].session.remove()
