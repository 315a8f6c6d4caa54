"""The demo shop served on 127.0.0.1 for a real browser.

Seeding the demo (tables, migrations, the seeded orders and the story) takes
a few seconds, so it is done once into a template SQLite file; each shop then
starts from a copy of that file, with its own app and its own port. The
browser tests and ``scripts/screenshots.py`` both use it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.serving import WSGIRequestHandler, make_server

from mirette_returns_plugin.demo import create_app
from mirette_returns_plugin.demo.models import db

#: Debian's Chromium, or the one named by ``MIRETTE_CHROMIUM``.
CHROMIUM = os.environ.get("MIRETTE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: Files a test page may load from the shop's own origin (axe-core, htmx 2),
#: so that the shop's strict Content-Security-Policy stays on.
ASSETS = Path(__file__).resolve().parent.parent / "assets"
ASSETS_URL = "/test-assets"

#: htmx 2 as a shop's own layout would load it (see ``DEMO_HOST_HTMX``).
HTMX2_URL = f"{ASSETS_URL}/htmx-2.0.11.min.js"

#: The htmx a page runs: the plugin's vendored htmx 4, or the shop's htmx 2.
HTMX_VERSIONS = ("htmx4", "htmx2")


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request in the test output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def seed_template(folder: Path) -> Path:
    """A seeded demo database in ``folder``, made the way ``make demo`` makes it."""
    path = folder / "seeded.sqlite3"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "DEMO_SEED": True,
        "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
        "MIRETTE_RETURNS_PHOTO_DIR": str(folder / "photos"),
        "MAIL_SUPPRESS_SEND": True,
    })
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return path


def shop_config(database: Path, photos: Path, *, htmx: str = "htmx4", **extra: Any) -> dict[str, Any]:
    """The demo's config for one served shop: the real thing, CSRF included."""
    if htmx not in HTMX_VERSIONS:
        raise ValueError(f"htmx must be one of {HTMX_VERSIONS}, not {htmx!r}")
    config: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "DEMO_SEED": False,
        "WTF_CSRF_ENABLED": True,
        "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
        "MIRETTE_RETURNS_PHOTO_DIR": str(photos),
        # The details page asks for news every second, so that a change made
        # in another browser shows up quickly.
        "MIRETTE_RETURNS_POLL_SECONDS": 1,
        "MAIL_SUPPRESS_SEND": True,
    }
    if htmx == "htmx2":
        # A shop whose layout already loads htmx 2 tells the plugin not to add its own.
        config["MIRETTE_RETURNS_INCLUDE_HTMX"] = False
        config["DEMO_HOST_HTMX"] = HTMX2_URL
    config.update(extra)
    return config


@dataclass
class LiveShop:
    """A demo shop answering on ``url``; ``app`` reads its database in tests."""

    url: str
    app: Flask
    htmx: str

    @contextmanager
    def database(self) -> Iterator[Any]:
        """The shop's ``db.session``, fresh, inside its app context."""
        with self.app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()


@contextmanager
def serve(template: Path, folder: Path, *, htmx: str = "htmx4", **extra: Any) -> Iterator[LiveShop]:
    """A copy of the seeded database served on a free port of 127.0.0.1."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "shop.sqlite3"
    shutil.copyfile(template, database)
    config = shop_config(database, folder / "photos", htmx=htmx, **extra)
    app = create_app(config)
    wsgi = SharedDataMiddleware(app, {ASSETS_URL: str(ASSETS)})
    server = make_server("127.0.0.1", 0, wsgi, threaded=True, request_handler=_QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["DEMO_BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name=f"shop-{server.server_port}", daemon=True)
    thread.start()
    try:
        yield LiveShop(url=url, app=app, htmx=htmx)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
