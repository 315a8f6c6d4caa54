"""An email's links come from the shop's settings, never from a request's headers.

A visitor who posts with ``Host: evil.example`` (or ``X-Forwarded-Host`` and
``X-Forwarded-Proto`` behind ProxyFix) must not make the shop send a genuine
email whose "See details" link points to another site.
"""

from __future__ import annotations

import re
import warnings
from importlib.metadata import version

import pytest
import sqlalchemy as sa
from werkzeug.middleware.proxy_fix import ProxyFix

from mirette_returns_plugin import ConfigurationError, delivery
from mirette_returns_plugin.demo import create_app
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import OutboxEmail
from tests.shop import CAMILLE, LUNE
from tests.test_notifications_smtp import submit

HOSTILE_HEADERS = [
    {"Host": "evil.example"},
    {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
    {"Host": "evil.example", "X-Forwarded-Host": "evil.example:8443", "X-Forwarded-Proto": "https",
     "X-Forwarded-Prefix": "/phish"},
]


#: Before Werkzeug 3.1 a request naming another host than ``SERVER_NAME`` is not routed.
HOST_MUST_BE_SERVER_NAME = tuple(int(part) for part in version("werkzeug").split(".")[:2]) < (3, 1)


def links(text: str) -> set[str]:
    return set(re.findall(r"https?://[^\s\"<>]+", text))


def post_messages_with_hostile_headers(app, client_as) -> int:
    with app.test_request_context():
        request_id = submit().id
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    for number, headers in enumerate(HOSTILE_HEADERS):
        for person in (CAMILLE, LUNE):
            # The signed-in visitor's own cookie, sent whatever host the request names.
            signed_in = client_as(person).get_cookie("session", domain=app.config["SERVER_NAME"] or "localhost")
            cookie = f"session={signed_in.value}"
            with warnings.catch_warnings():
                # Werkzeug before 3.1 warns, then routes nothing, when the host is not SERVER_NAME.
                warnings.filterwarnings("ignore", "Current server name", UserWarning)
                answer = app.test_client(use_cookies=False).post(
                    f"/returns/requests/{request_id}/messages", data={"body": f"Hello {number}"},
                    headers={**headers, "Cookie": cookie})
            if answer.status_code == 404 and HOST_MUST_BE_SERVER_NAME and app.config["SERVER_NAME"]:
                continue  # the hostile host never reached the plugin
            assert answer.status_code == 303, answer.get_data(as_text=True)[-2000:]
    return request_id


class TestWithTheBaseURL:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "SERVER_NAME": None, "MIRETTE_RETURNS_EXTERNAL_BASE_URL": "https://shop.example/"}

    def test_no_header_changes_a_queued_or_sent_emails_links(self, app, client_as, mail_app, smtp):
        request_id = post_messages_with_hostile_headers(app, client_as)

        expected = {f"https://shop.example/returns/requests/{request_id}"}
        with app.app_context():
            rows = [WrittenEmail(row) for row in db.session.scalars(sa.select(OutboxEmail))]
            assert len(rows) == 1 + 2 * len(HOSTILE_HEADERS)  # the new request, then each message
            for row in rows:
                assert links(row.body_text) == expected, row.body_text
                assert links(row.body_html) == expected
            delivery.deliver()
        assert len(smtp.arrived) == len(rows)
        for email in smtp.arrived:
            assert links(email.text) == expected and links(email.html) == expected
            assert "evil" not in email.text and "phish" not in email.html


def test_with_server_name_only_in_testing_the_links_use_it(app, client_as):
    request_id = post_messages_with_hostile_headers(app, client_as)

    with app.app_context():
        for row in map(WrittenEmail, db.session.scalars(sa.select(OutboxEmail))):
            assert links(row.body_text) == {f"http://shop.test/returns/requests/{request_id}"}


def production(database_url: str, **config: object) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": database_url, "DEMO_SEED": False, "SECRET_KEY": "k" * 32,
            "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
            "MIRETTE_RETURNS_EXTERNAL_BASE_URL": None, **config}


def test_mounting_in_production_without_a_base_url_is_refused(database_url):
    with pytest.raises(ConfigurationError, match="MIRETTE_RETURNS_EXTERNAL_BASE_URL"):
        create_app(production(database_url))
    # SERVER_NAME alone is not enough: Flask must also be told which hosts to trust.
    with pytest.raises(ConfigurationError, match="TRUSTED_HOSTS"):
        create_app(production(database_url, SERVER_NAME="shop.example"))


@pytest.mark.parametrize("config", [
    {"MIRETTE_RETURNS_EXTERNAL_BASE_URL": "https://shop.example"},
    {"SERVER_NAME": "shop.example", "TRUSTED_HOSTS": ["shop.example"], "PREFERRED_URL_SCHEME": "https"},
])
def test_mounting_in_production_with_a_base_url_or_trusted_server_name(database_url, config):
    app = create_app(production(database_url, **config))
    assert "mirette_returns" in app.extensions
    with app.app_context():
        db.engine.dispose()


def test_a_base_url_that_is_not_an_absolute_http_url_is_refused(database_url):
    with pytest.raises(ConfigurationError, match="absolute http"):
        create_app(production(database_url, MIRETTE_RETURNS_EXTERNAL_BASE_URL="shop.example"))


def test_in_debug_without_a_base_url_mounting_warns_and_links_ignore_the_host(app, database_url, caplog):
    import logging

    caplog.set_level(logging.WARNING, logger="mirette_returns_plugin")
    debug_app = create_app({**production(database_url), "DEBUG": True})  # on the test's seeded database
    assert "MIRETTE_RETURNS_EXTERNAL_BASE_URL" in caplog.text and "http://localhost" in caplog.text
    try:
        with debug_app.test_request_context("/", headers={"Host": "evil.example"}):
            request_id = submit().id
            [row] = map(WrittenEmail, db.session.scalars(sa.select(OutboxEmail)))
            assert links(row.body_text) == {f"http://localhost/returns/requests/{request_id}"}
    finally:
        with debug_app.app_context():
            db.session.remove()
            db.engine.dispose()
