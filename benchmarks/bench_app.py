"""The demo shop, as the load tests serve it under gunicorn.

``BENCH_DATABASE_URL`` names the database (filled by ``generate_data.py``). The
only differences from ``flask --app mirette_returns_plugin.demo run`` are
listed in :data:`BENCH_CONFIG`, each with its reason; CSRF protection stays
on (the load test posts a real token).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from mirette_returns_plugin.demo import create_app

#: Signs the session cookie the load test forges for each role.
SECRET_KEY = os.environ.get("BENCH_SECRET_KEY", "benchmark-only-secret-key")


def bench_config(database_url: str) -> dict[str, Any]:
    return {
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # The database is prepared by generate_data.py before the servers start.
        "DEMO_SEED": False,
        # Emails are queued in the outbox (that cost is measured) but not
        # delivered by the web worker: there is no SMTP server to talk to.
        "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
        "MAIL_SUPPRESS_SEND": True,
        # One signed-in user posts hundreds of messages a second: the
        # anti-flood limits would answer "slow down" instead of posting.
        "MIRETTE_RETURNS_MESSAGES_PER_MINUTE": 0,
        # ... and one thread would reach the daily and per-thread caps in seconds.
        "MIRETTE_RETURNS_MESSAGES_PER_DAY": 0,
        "MIRETTE_RETURNS_MESSAGES_PER_THREAD": 0,
        "MIRETTE_RETURNS_REQUESTS_PER_HOUR": 0,
        "MIRETTE_RETURNS_PHOTO_DIR": os.path.join(tempfile.gettempdir(), "mirette-bench-photos"),
        # Flask-WTF's token normally expires after an hour; a run is shorter,
        # but a long one must not start failing half-way.
        "WTF_CSRF_TIME_LIMIT": None,
    }


def make_app():
    return create_app(bench_config(os.environ["BENCH_DATABASE_URL"]))


app = make_app() if os.environ.get("BENCH_DATABASE_URL") else None
