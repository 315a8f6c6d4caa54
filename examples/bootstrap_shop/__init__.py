"""Harbour Prints: a one-artist print shop built the way most Flask shops are.

An app factory, Flask-Login, an app-wide ``CSRFProtect``, Flask-Babel with
``{% trans %}`` in its layout, Bootstrap 5 and its own stylesheet. It mounts
mirette-returns by following docs/mount.md. Run it from the repository root::

    flask --app examples.bootstrap_shop run

It is seeded on first start: sign in as ``nora@buyers.example`` (a buyer),
``iris@harbourprints.example`` (the artist) or ``milo@harbourprints.example``
(support); the password is ``harbour-lights``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from mirette_returns_plugin import MiretteReturns

from .models import User, db

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "shop.login"
returns = MiretteReturns()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("HARBOUR_SECRET_KEY", "harbour-prints-example-only"),
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "HARBOUR_DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'harbour-prints.sqlite3'}"),
        MAIL_SERVER="localhost",
        MAIL_DEFAULT_SENDER="Harbour Prints <studio@harbourprints.example>",
        PAYMENTS_WEBHOOK_SECRET=os.environ.get("HARBOUR_WEBHOOK_SECRET", "whsec-example-only"),
        # Links in the emails the worker sends point at the shop's public address.
        MIRETTE_RETURNS_EXTERNAL_BASE_URL=os.environ.get("HARBOUR_BASE_URL", "http://127.0.0.1:5000"),
        MIRETTE_RETURNS_BASE_TEMPLATE="shop/base.html",
        MIRETTE_RETURNS_URL_PREFIX="/returns",
    )
    app.config.update(config or {})
    db.init_app(app)
    babel.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    from .returns_adapter import adapter

    returns.init_app(app, adapter=adapter)

    from .views import shop
    from .webhooks import payment_webhook, webhooks

    # The payment provider cannot send a CSRF token: it signs its events instead.
    csrf.exempt(payment_webhook)
    app.register_blueprint(shop)
    app.register_blueprint(webhooks)
    if app.config.get("HARBOUR_SEED", True):
        with app.app_context():
            install()
    return app


def install() -> None:
    """On an empty database: create the shop's tables and the plugin's, then seed."""
    if sa.inspect(db.engine).has_table(User.__tablename__):
        return
    db.create_all()  # the shop's own tables (a real shop runs its migrations)
    from mirette_returns_plugin import migrate

    migrate.upgrade()  # the plugin's tables, from its own migration history
    from .seed import seed

    seed()
