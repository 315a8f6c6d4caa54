"""The Corner Tea House: a single-seller tea shop that mounts mirette-returns.

Run it from the repository root::

    flask --app examples.corner_shop run

It is seeded on first start (sign in as ``ada@customers.example`` or, for the
till, ``priya@cornertea.example``; the password is ``tea-for-two``). The links
in its emails start with ``CORNER_BASE_URL`` (``http://127.0.0.1:5000`` unless
set).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_wtf import CSRFProtect

from mirette_returns_plugin import MiretteReturns

from .models import Member, db

returns = MiretteReturns()
csrf = CSRFProtect()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(
        SECRET_KEY=os.environ.get("CORNER_SECRET_KEY", "corner-shop-example-only"),
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "CORNER_DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'corner-shop.sqlite3'}"),
        MAIL_DEFAULT_SENDER="Corner Tea House <hello@cornertea.example>",
        # Where the links of the emails point: the shop's public address.
        MIRETTE_RETURNS_EXTERNAL_BASE_URL=os.environ.get("CORNER_BASE_URL", "http://127.0.0.1:5000"),
        # The plugin's pages render inside the shop's own layout.
        MIRETTE_RETURNS_BASE_TEMPLATE="corner/layout.html",
        MIRETTE_RETURNS_URL_PREFIX="/account/returns",
    )
    app.config.update(config or {})
    db.init_app(app)
    csrf.init_app(app)

    from .returns_adapter import adapter

    returns.init_app(app, adapter=adapter)
    from .views import corner

    app.register_blueprint(corner)
    if app.config.get("CORNER_SEED", True):
        with app.app_context():
            install()
    return app


def install() -> None:
    """On an empty database: create the shop's tables and the plugin's, then seed."""
    if sa.inspect(db.engine).has_table(Member.__tablename__):
        return
    db.create_all()  # the shop's own tables (a real shop runs its migrations)
    from mirette_returns_plugin import migrate

    migrate.upgrade()  # the plugin's tables, from its own migration history
    from .seed import seed

    seed()
