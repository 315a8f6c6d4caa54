"""Dates and times in the reader's language and time zone, as Babel writes them.

A page shows dozens of moments (a long thread, a list of requests).
Flask-Babel's ``format_datetime`` looks up the locale, the time zone and the
locale's patterns again for each one; here they are looked up once per
(locale, time zone), kept per context in the plugin's own state
(:mod:`.locale_memo`), and
each calendar day's text is written once. The text is exactly Flask-Babel's
``format_datetime(moment, "medium")`` and ``format_date(moment, "medium")``,
the shop's own ``date_formats`` patterns included.
"""

from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo
from functools import lru_cache

from babel import Locale
from babel.dates import get_date_format, get_datetime_format, get_time_format, parse_pattern
from flask import current_app, has_app_context
from flask_babel import get_babel, get_locale, get_timezone

from . import locale_memo

#: Where the current context's formatter is remembered.
_REMEMBERED = "mirette_returns_moments"

#: Days whose text a formatter keeps (a few years of history).
_MOST_DAYS = 2048


class MomentFormatter:
    """Medium dates and date-times for one locale and one time zone."""

    def __init__(self, locale: Locale, zone: tzinfo, date_format: str | None = None,
                 datetime_format: str | None = None) -> None:
        """``date_format``/``datetime_format``: the shop's own patterns for
        "medium" (Flask-Babel's ``date_formats``), if it set any."""
        self.locale = locale
        self.zone = zone
        self._date_pattern = parse_pattern(date_format or get_date_format("medium", locale=locale))
        self._time_pattern = parse_pattern(get_time_format("medium", locale=locale))
        # Babel annotates the pattern as a DateTimePattern; for the "medium"
        # date-time it is the locale's plain "{1}, {0}" text.
        self._joined = str(get_datetime_format("medium", locale=locale)).replace("'", "")
        self._whole_pattern = parse_pattern(datetime_format) if datetime_format else None
        self._days: dict[date, str] = {}
        #: What the text depends on, to key rendered pieces by (:mod:`.fragments`).
        self.reader_key = (str(locale), str(getattr(zone, "key", None) or zone), date_format, datetime_format)

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        local = moment.astimezone(self.zone)
        normalize = getattr(self.zone, "normalize", None)  # a pytz zone
        return normalize(local) if normalize else local

    def day(self, moment: datetime | date) -> str:
        """``moment``'s calendar day (in the reader's zone when it has a time)."""
        if isinstance(moment, datetime):
            moment = self.local(moment).date()
        text = self._days.get(moment)
        if text is None:
            if len(self._days) >= _MOST_DAYS:
                self._days.clear()
            text = self._days[moment] = self._date_pattern.apply(moment, self.locale)
        return text

    def when(self, moment: datetime) -> str:
        """Day and time of ``moment``."""
        local = self.local(moment)
        if self._whole_pattern is not None:
            return self._whole_pattern.apply(local, self.locale)
        day = local.date()
        time_text = self._time_pattern.apply(local.timetz(), self.locale, reference_date=day)
        return self._joined.replace("{0}", time_text).replace("{1}", self.day(day))


@lru_cache(maxsize=64)
def _formatter(locale: Locale, zone: tzinfo, date_format: str | None, datetime_format: str | None) -> MomentFormatter:
    return MomentFormatter(locale, zone, date_format, datetime_format)


def _shop_patterns() -> tuple[str | None, str | None]:
    """The shop's ``Babel(date_formats=...)`` patterns for medium dates and date-times."""
    if not has_app_context() or "babel" not in current_app.extensions:
        return None, None
    formats = get_babel().instance.date_formats
    return formats.get("date.medium"), formats.get("datetime.medium")


def formatter() -> MomentFormatter:
    """The formatter of the current context's locale and time zone.

    Kept per context (:mod:`.locale_memo`), so that ``force_locale`` (an
    email in its recipient's language) and ``refresh`` are obeyed.
    """
    if not has_app_context() or "babel" not in current_app.extensions:
        return _formatter(Locale.parse("en"), timezone.utc, None, None)
    locale, zone = get_locale(), get_timezone()
    return locale_memo.remembered(_REMEMBERED, (locale, zone), lambda: _formatter(
        locale or Locale.parse("en"), zone or timezone.utc, *_shop_patterns()))


def when(moment: datetime | None) -> str:
    """Babel's medium date and time of ``moment`` for the reader; ``""`` for none."""
    return formatter().when(moment) if moment else ""


def day(moment: datetime | date | None) -> str:
    """Babel's medium date of ``moment`` for the reader; ``""`` for none."""
    return formatter().day(moment) if moment else ""
