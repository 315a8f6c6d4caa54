"""The support team's insights: one period's requests counted and charted,
and the same requests exported as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from flask import Blueprint, Response, request, stream_with_context, url_for
from flask_babel import format_decimal
from werkzeug.datastructures import MultiDict

from .. import insights, workflow
from ..access import current_user
from ..errors import NotAllowed
from ..i18n import gettext as _
from ..rendering import render
from ..state import current_state

TEMPLATE = "mirette_returns/support_insights.html"

#: What a spreadsheet reads as a formula when a cell starts with it (a tab
#: and a carriage return too: some spreadsheets skip them, then read on).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: The dates a period may span: every database stores them (MariaDB's
#: DATETIME starts in year 1000), and the day after the last one exists.
EARLIEST = date(1970, 1, 1)
LATEST = date(9998, 12, 31)


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/support/insights", "support_insights", support_insights)
    blueprint.add_url_rule("/support/insights/requests.csv", "support_export", support_export)


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    #: Share of the longest bar, from 0 to 100 (the chart's width).
    width: float


@dataclass
class Choice:
    """The filter as typed, with a message for each field that is wrong."""

    values: dict[str, str]
    errors: dict[str, str]
    period: insights.Period | None


def _support_only() -> None:
    user = current_user()
    if user is None or not user.is_support:
        raise NotAllowed(_("This page is for the shop's support team."))


def read_choice(args: MultiDict[str, str], today: date) -> Choice:
    """The period and artist in ``args``; the last 30 days when none is given."""
    first_default, last_default = insights.default_period(today)
    values = {"from": args.get("from", "").strip()[:32], "to": args.get("to", "").strip()[:32],
              "artist": args.get("artist", "").strip()[:64]}
    errors: dict[str, str] = {}
    first = _date(values["from"], first_default, "from", errors)
    last = _date(values["to"], last_default, "to", errors)
    values["from"], values["to"] = values["from"] or first.isoformat(), values["to"] or last.isoformat()
    if not errors and last < first:
        errors["to"] = _("The end of the period must not be before its start.")
    elif not errors and (last - first).days + 1 > insights.MAX_PERIOD_DAYS:
        errors["to"] = _("Choose a period of at most %(days)s days.", days=insights.MAX_PERIOD_DAYS)
    refs: tuple[str, ...] = ()
    name = ""
    if values["artist"]:
        refs, name = insights.find_artist(current_state().session, values["artist"])
        if not refs:
            errors["artist"] = _("No artist is called “%(name)s”. Type their whole name or their reference.",
                                 name=values["artist"])
    period = None if errors else insights.Period(first, last, refs, name)
    return Choice(values, errors, period)


def _date(typed: str, default: date, name: str, errors: dict[str, str]) -> date:
    if not typed:
        return default
    try:
        found = date.fromisoformat(typed)
    except ValueError:
        errors[name] = _("Enter a date such as %(example)s.", example=default.isoformat())
        return default
    if not EARLIEST <= found <= LATEST:
        errors[name] = _("Enter a date from %(earliest)s to %(latest)s.", earliest=EARLIEST.isoformat(),
                         latest=LATEST.isoformat())
        return default
    return found


def _today() -> date:
    return datetime.now(timezone.utc).date()


def support_insights() -> Response:
    _support_only()
    choice = read_choice(request.args, _today())
    if choice.period is None:
        return render(TEMPLATE, status=400, choice=choice, figures=None)
    figures = insights.gather(current_state().session, choice.period)
    charts = {
        "status": _bars((workflow.status_label(code), n) for code, n in figures.by_status),
        "reason": _bars((_reason_label(code), n) for code, n in figures.by_reason),
        "kind": _bars((workflow.kind_label(code), n) for code, n in figures.by_kind),
        "artists": _bars((name, n) for _ref, name, n in figures.top_artists),
        "products": _bars((_("%(product)s by %(artist)s", product=name, artist=artist), n)
                          for _ref, name, artist, n in figures.top_products),
    }
    chosen: dict[str, Any] = {key: value for key, value in choice.values.items() if value}
    export_url = url_for(f"{current_state().blueprint_name}.support_export", **chosen)
    return render(TEMPLATE, choice=choice, figures=figures, charts=charts, export_url=export_url,
                  first_answer=_hours(figures.first_answer), refund=_hours(figures.refund))


def support_export() -> Response:
    _support_only()
    choice = read_choice(request.args, _today())
    if choice.period is None:
        return render(TEMPLATE, status=400, choice=choice, figures=None)
    period = choice.period
    rows = insights.export_rows(current_state().session, period)
    name = f"requests-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    response = Response(stream_with_context(_csv_lines(rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _csv_lines(rows: Iterable[list[object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def spreadsheet_safe(cell: object) -> str:
    """``cell`` as CSV text a spreadsheet shows as typed, never runs as a formula.

    A buyer's comment or a product's name starting with ``=`` (or ``+ - @``)
    would be a formula once the file is opened: a quote in front keeps it text.
    """
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "1" if cell else "0"
    if isinstance(cell, datetime):
        return cell.isoformat()
    text = str(cell)
    if isinstance(cell, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _bars(counted: Iterable[tuple[str, int]]) -> list[Bar]:
    pairs = list(counted)
    most = max((n for _label, n in pairs), default=0) or 1
    return [Bar(label, n, round(100 * n / most, 1)) for label, n in pairs]


def _reason_label(code: str) -> str:
    if not code:
        return _("No reason (cancellation)")
    reason = current_state().reasons.get(code)
    return reason.display if reason else code


def _hours(wait: timedelta | None) -> str:
    """A median wait in hours, to the tenth: ``36.5 h``."""
    if wait is None:
        return ""
    return _("%(hours)s h", hours=format_decimal(round(wait.total_seconds() / 3600, 1)))
