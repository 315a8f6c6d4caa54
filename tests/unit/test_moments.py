"""Dates on pages: the fast formatter writes exactly what Flask-Babel writes."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from flask import Flask
from flask_babel import Babel, force_locale, format_date, format_datetime, refresh

from mirette_returns_plugin import moments

#: Around a daylight-saving change in Paris, midnight, noon, a leap day.
MOMENTS = [
    datetime(2026, 3, 29, 0, 59, 59, tzinfo=timezone.utc),
    datetime(2026, 3, 29, 1, 0, 0, tzinfo=timezone.utc),
    datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc),
    datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc),
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone.utc),
    datetime(2028, 2, 29, 12, 0, tzinfo=timezone.utc),
    datetime(2026, 7, 14, 9, 5, 7, 123456),  # naive: taken as UTC
]


#: The language the app's locale selector answers.
CHOSEN = {"locale": "en"}


@pytest.fixture(params=["UTC", "Europe/Paris", "America/Los_Angeles"])
def babel_app(request) -> Flask:
    app = Flask(__name__)
    app.config["BABEL_DEFAULT_TIMEZONE"] = request.param
    CHOSEN["locale"] = "en"
    Babel(app, locale_selector=lambda: CHOSEN["locale"])
    return app


@pytest.mark.parametrize("language", ["en", "fr", "de_CH"])
def test_dates_are_babels_own_in_every_language_and_zone(babel_app, language):
    with babel_app.test_request_context(), force_locale(language):
        for moment in MOMENTS:
            assert moments.when(moment) == format_datetime(moment, "medium")
            assert moments.day(moment) == format_date(moment, "medium")
            # Twice: the second comes from the day's remembered text.
            assert moments.day(moment) == format_date(moment, "medium")
        assert moments.day(date(2026, 5, 1)) == format_date(date(2026, 5, 1), "medium")


def test_the_language_may_change_within_one_request(babel_app):
    moment = datetime(2026, 11, 27, 8, 30, tzinfo=timezone.utc)
    with babel_app.test_request_context():
        english = moments.when(moment)
        with force_locale("fr"):
            french = moments.when(moment)
        assert moments.when(moment) == english
        CHOSEN["locale"] = "fr"
        refresh()
        assert moments.when(moment) == french
    assert "Nov" in english and "nov." in french


def test_nothing_gives_an_empty_text(babel_app):
    with babel_app.test_request_context():
        assert moments.when(None) == "" and moments.day(None) == ""


def test_a_long_history_keeps_a_bounded_number_of_days(babel_app):
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    with babel_app.test_request_context():
        formatter = moments.formatter()
        for offset in range(0, 3000, 1):
            moment = start + timedelta(days=offset)
            assert formatter.day(moment) == format_date(moment, "medium")
        assert len(formatter._days) <= moments._MOST_DAYS


def test_the_shops_own_patterns_are_kept():
    app = Flask(__name__)
    Babel(app, date_formats={"datetime.medium": "dd/MM/yyyy HH:mm", "date.medium": "d MMMM y"})
    with app.test_request_context():
        for moment in MOMENTS:
            assert moments.when(moment) == format_datetime(moment, "medium")
            assert moments.day(moment) == format_date(moment, "medium")
        assert moments.when(MOMENTS[0]) == "29/03/2026 00:59"
