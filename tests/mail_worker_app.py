"""The demo app for an email worker the tests start as a separate process.

``flask --app tests.mail_worker_app mirette-returns send-emails``, with the
app's settings as JSON in ``MIRETTE_TEST_APP_CONFIG``.
"""

from __future__ import annotations

import json
import os

from flask import Flask

from mirette_returns_plugin.demo import create_app as create_demo_app


def create_app() -> Flask:
    return create_demo_app(json.loads(os.environ["MIRETTE_TEST_APP_CONFIG"]))
