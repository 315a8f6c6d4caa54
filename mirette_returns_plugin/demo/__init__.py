"""The demo shop: a small artists' marketplace that mounts the plugin.

Run it with ``flask --app mirette_returns_plugin.demo run``. It uses only the
plugin's public API, exactly as the README tells a shop developer to.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from .. import MiretteReturns
from .adapter import DemoShopAdapter
from .models import db

returns = MiretteReturns()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(
        SECRET_KEY=os.environ.get("DEMO_SECRET_KEY", "demo-only-secret-key"),
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "DEMO_DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'demo-shop.sqlite3'}"
        ),
        MIRETTE_RETURNS_BASE_TEMPLATE="demo/layout.html",
        MAIL_DEFAULT_SENDER="Mirette <no-reply@mirette.example>",
        MAIL_SUPPRESS_SEND=False,
        MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT=True,
    )
    if config:
        app.config.update(config)
    db.init_app(app)
    returns.init_app(app, adapter=DemoShopAdapter())
    from .views import demo

    app.register_blueprint(demo)
    from .setup import install

    install(app)
    return app
