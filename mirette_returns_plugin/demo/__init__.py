"""The demo shop: a small artists' marketplace that mounts the plugin.

Run it with ``flask --app mirette_returns_plugin.demo run``. It uses only the
plugin's public API, exactly as the README tells a shop developer to.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import Babel
from flask_wtf.csrf import generate_csrf

from .. import MiretteReturns, abort_on_out_of_range_ids
from .adapter import DemoShopAdapter
from .cli import demo_reset
from .errors import register_error_pages
from .formatting import money, percent, when, when_exactly
from .locale import current_language, select_locale, shop_gettext
from .mailbox import mailbox
from .models import db
from .payments import payments
from .security import add_security_headers
from .setup import install
from .signed_in import current_account
from .views import demo, role_label

returns = MiretteReturns()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(
        SECRET_KEY=os.environ.get("DEMO_SECRET_KEY") or instance_secret_key(Path(app.instance_path)),
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "DEMO_DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'demo-shop.sqlite3'}"
        ),
        MIRETTE_RETURNS_BASE_TEMPLATE="demo/layout.html",
        # The marketplace's name, in every email subject ("[Mirette] Order ...").
        MIRETTE_RETURNS_SHOP_NAME="Mirette",
        # The session cookie is out of reach of scripts and is not sent
        # with another site's forms.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAIL_DEFAULT_SENDER="Mirette <no-reply@mirette.example>",
        MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT=True,
        #: Where links in the emails of the seeded story point (the address
        #: ``flask run`` serves on unless told otherwise).
        DEMO_BASE_URL=os.environ.get("DEMO_BASE_URL", "http://127.0.0.1:5000"),
        #: Address of an htmx script the layout loads itself, as a shop that
        #: already runs htmx 2 would (then set MIRETTE_RETURNS_INCLUDE_HTMX to
        #: False); ``None``: the plugin's own htmx only.
        DEMO_HOST_HTMX=None,
        **mail_settings(os.environ),
    )
    if config:
        app.config.update(config)
    # The links of every email point at the address the demo is served on
    # (unless told otherwise), never at whatever host a request names.
    if not app.config.get("SERVER_NAME"):
        app.config.setdefault("MIRETTE_RETURNS_EXTERNAL_BASE_URL", app.config["DEMO_BASE_URL"])
    db.init_app(app)
    # The shop's own Flask-Babel, set up before the plugin so that the plugin
    # uses it (and its language choice) instead of creating one.
    Babel(app, locale_selector=select_locale)
    returns.init_app(app, adapter=DemoShopAdapter())
    _install_templating(app)
    app.after_request(add_security_headers)
    app.register_blueprint(demo)
    app.register_blueprint(mailbox)
    app.register_blueprint(payments)
    # An id in a URL beyond any row is a 404, not a database error.
    app.url_value_preprocessor(abort_on_out_of_range_ids)
    app.cli.add_command(demo_reset)
    install(app)
    return app


#: File of the instance folder holding the demo's secret key.
SECRET_KEY_FILE = "demo-secret-key"


def instance_secret_key(instance: Path) -> str:
    """The demo's secret key: made at random on the first start and kept in
    the instance folder (readable by its owner only), so that sessions
    survive a restart and no two demos share a key."""
    path = instance / SECRET_KEY_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Made by an earlier start, or by another worker a moment ago.
        for _attempt in range(50):
            key = path.read_text(encoding="ascii").strip()
            if key:
                return key
            time.sleep(0.01)
        raise RuntimeError(f"{path} is empty: delete it and start again.") from None
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(key)
    return key


def mail_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Flask-Mail settings: record emails by default, or use the SMTP server
    named by ``DEMO_MAIL_SERVER`` (and ``DEMO_MAIL_PORT``, ``DEMO_MAIL_USERNAME``,
    ``DEMO_MAIL_PASSWORD``, ``DEMO_MAIL_USE_TLS``, ``DEMO_MAIL_USE_SSL``)."""
    server = environ.get("DEMO_MAIL_SERVER")
    if not server:
        # Flask-Mail then records each email instead of sending it: the outbox
        # rows are marked sent and the demo's Mailbox page shows them.
        return {"MAIL_SUPPRESS_SEND": True}
    settings: dict[str, Any] = {"MAIL_SUPPRESS_SEND": False, "MAIL_SERVER": server}
    if environ.get("DEMO_MAIL_PORT"):
        settings["MAIL_PORT"] = int(environ["DEMO_MAIL_PORT"])
    for name in ("USERNAME", "PASSWORD"):
        if environ.get(f"DEMO_MAIL_{name}"):
            settings[f"MAIL_{name}"] = environ[f"DEMO_MAIL_{name}"]
    for name in ("USE_TLS", "USE_SSL"):
        if environ.get(f"DEMO_MAIL_{name}"):
            settings[f"MAIL_{name}"] = environ[f"DEMO_MAIL_{name}"].lower() in ("1", "true", "yes", "on")
    return settings


def _install_templating(app: Flask) -> None:
    app.add_template_filter(money, "shop_money")
    app.add_template_filter(when, "shop_date")
    app.add_template_filter(when_exactly, "shop_datetime")
    app.add_template_filter(percent, "shop_percent")
    register_error_pages(app)
    # Flask-WTF's token, under the name its CSRFProtect gives it.
    app.add_template_global(generate_csrf, "csrf_token")
    # The plugin's pages put the plugin's own ``_`` in their context, and they
    # extend the shop's layout: the layout's words use this name so that they
    # come from the shop's catalogue on every page.
    app.add_template_global(shop_gettext, "shop_gettext")
    app.add_template_global(current_language, "shop_language")

    @app.context_processor
    def shop_context() -> dict[str, Any]:
        account = current_account()
        return {"demo_account": account, "demo_role": role_label(account)}
