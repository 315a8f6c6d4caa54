"""The demo shop as the load test serves it (gunicorn) and drains its outbox.

``LOAD_DATABASE_URL`` names the database; ``DEMO_MAIL_SERVER`` and
``DEMO_MAIL_PORT`` the SMTP server (read by the demo itself);
``LOAD_S3_BUCKET`` and ``LOAD_S3_ENDPOINT_URL``, when set, an object store
for the photos. The only
differences from ``flask --app mirette_returns_plugin.demo run`` are in
:func:`load_config`, each with its reason. CSRF protection stays on: the
simulated visitors post the token of the page they loaded.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from mirette_returns_plugin.demo import create_app

#: Signs the session cookies the load test gives each simulated person.
SECRET_KEY = os.environ.get("LOAD_SECRET_KEY", "load-test-only-secret-key")


def load_config(database_url: str) -> dict[str, Any]:
    return {
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # The script prepares the database before the servers start.
        "DEMO_SEED": False,
        # Emails go through the outbox and a separate
        # ``flask mirette-returns send-emails --loop`` worker, never from the
        # web workers: that worker is what the SMTP outage tests.
        "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
        # A few hundred simulated people type much faster than real ones:
        # the anti-flood limits (per minute and per day) would answer "slow down" instead.
        "MIRETTE_RETURNS_MESSAGES_PER_MINUTE": 0,
        "MIRETTE_RETURNS_MESSAGES_PER_DAY": 0,
        "MIRETTE_RETURNS_REQUESTS_PER_HOUR": 0,
        "MIRETTE_RETURNS_PHOTO_DIR": os.path.join(tempfile.gettempdir(), "mirette-load-photos"),
        "WTF_CSRF_TIME_LIMIT": None,
        # Email links point at the served address.
        "MIRETTE_RETURNS_EXTERNAL_BASE_URL": os.environ.get("LOAD_BASE_URL", "http://127.0.0.1"),
        # The soak keeps photos in an object store (an S3 API server on
        # 127.0.0.1), as a shop on several servers does; credentials come from
        # boto3's environment.
        **({"MIRETTE_RETURNS_S3_BUCKET": os.environ["LOAD_S3_BUCKET"],
            "MIRETTE_RETURNS_S3_ENDPOINT_URL": os.environ["LOAD_S3_ENDPOINT_URL"],
            "MIRETTE_RETURNS_S3_REGION": "us-east-1"} if os.environ.get("LOAD_S3_BUCKET") else {}),
    }


app = create_app(load_config(os.environ["LOAD_DATABASE_URL"]))
