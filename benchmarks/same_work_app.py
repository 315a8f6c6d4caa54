"""The same-work yardstick: bare Flask pages doing the work the plugin's pages must do.

The bare baseline (``baseline_app``) renders a few columns with no session,
no sign-in, no CSRF token, no dates and no layout: the floor of any Flask
page. This app does, for each measured page, what a hand-written view of the
same page could not avoid:

- opens the signed session cookie (Flask's own session, the demo's secret
  key) and reads the signed-in account (one ``SELECT`` by primary key);
- checks the account may see the page (the buyer or artist of the request,
  an artist for the inbox, support for the support list);
- runs the same reads with SQLAlchemy Core (the request, its history and its
  messages; a keyset page of 25 rows);
- formats every moment in the account's language with Babel patterns parsed
  once per locale (medium date and date-time, as the plugin shows them);
- signs one CSRF token (Flask-WTF's ``generate_csrf``);
- renders the plugin's own HTML, byte for byte, inside the same layout: the
  page the plugin rendered for the same URL (``BENCH_SKELETONS``, captured by
  ``run_benchmarks.py``) becomes a Jinja template in which every place that
  shows a value read above (a column, a formatted date, the account's name,
  the CSRF token) is a ``{{ }}`` substitution, escaped as the plugin's are.

The poll's yardstick is ``/same/requests/<id>/news``: the same indexed
``SELECT version`` by primary key, outside a transaction, then 204.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from babel import Locale
from babel.dates import get_date_format, get_datetime_format, get_time_format, parse_pattern
from flask import Flask, abort, request, session
from flask_wtf.csrf import generate_csrf
from jinja2 import Environment
from markupsafe import escape

PAGE_SIZE = 25
#: Values shorter than this are not made substitutions (a "1" would match
#: every digit of the page's markup).
SHORTEST_VALUE = 3
CSRF_IN_PAGE = re.compile(r'name="csrf_token"\s+value="([^"]+)"|value="([^"]+)"\s+name="csrf_token"')


class Moments:
    """Medium date and date-time texts for one locale, patterns parsed once (UTC, as the demo)."""

    def __init__(self, locale_name: str) -> None:
        self.locale = Locale.parse(locale_name)
        self.date = parse_pattern(get_date_format("medium", locale=self.locale))
        self.time = parse_pattern(get_time_format("medium", locale=self.locale))
        self.joined = get_datetime_format("medium", locale=self.locale).replace("'", "")

    def texts(self, moment: datetime) -> tuple[str, str]:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        day = self.date.apply(moment, self.locale)
        return day, self.joined.replace("{1}", day).replace("{0}", self.time.apply(moment, self.locale))


@lru_cache(maxsize=8)
def moments(locale_name: str) -> Moments:
    return Moments(locale_name)


class Skeleton:
    """A captured page as a Jinja template whose data are substitutions."""

    def __init__(self, html: str, values: list[str], environment: Environment) -> None:
        claimed: list[tuple[int, int, int]] = []
        taken = bytearray(len(html))
        order = sorted(range(len(values)), key=lambda index: -len(str(escape(values[index]))))
        for index in order:
            needle = str(escape(values[index]))
            if len(values[index]) < SHORTEST_VALUE:
                continue
            start = html.find(needle)
            while start != -1:
                end = start + len(needle)
                if not any(taken[start:end]):
                    taken[start:end] = b"\x01" * len(needle)
                    claimed.append((start, end, index))
                start = html.find(needle, end)
        claimed.sort()
        source, position = [], 0
        for start, end, index in claimed:
            source.append("{% raw %}" + html[position:start] + "{% endraw %}")
            source.append(f"{{{{ v[{index}] }}}}")
            position = end
        source.append("{% raw %}" + html[position:] + "{% endraw %}")
        self.substitutions = len(claimed)
        self.template = environment.from_string("".join(source))

    def render(self, values: list[str]) -> str:
        return self.template.render(v=values)


def create_app(database_url: str, secret_key: str, skeletons: dict[str, str]) -> Flask:
    app = Flask(__name__)
    app.secret_key = secret_key
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    engine = sa.create_engine(database_url)
    # The poll reads outside a transaction, as the plugin's does.
    reader = engine.execution_options(isolation_level="AUTOCOMMIT")
    tables = sa.MetaData()
    tables.reflect(engine, only=["mirette_returns_request", "mirette_returns_message", "mirette_returns_history",
                                 "shop_account"])
    req = tables.tables["mirette_returns_request"]
    msg = tables.tables["mirette_returns_message"]
    hist = tables.tables["mirette_returns_history"]
    account_table = tables.tables["shop_account"]
    app.extensions["same_work_engine"] = engine
    environment = Environment(autoescape=True)
    built: dict[str, Skeleton] = {}
    app.extensions["same_work_skeletons"] = built
    list_columns = (req.c.id, req.c.kind, req.c.status, req.c.order_number, req.c.product_name, req.c.variant,
                    req.c.buyer_name, req.c.artist_name, req.c.last_activity_at, req.c.created_at)

    def signed_in(connection: sa.Connection):
        account_id = session.get("account_id")
        row = connection.execute(sa.select(account_table).where(account_table.c.id == account_id)).first() \
            if account_id else None
        if row is None:
            abort(403)
        return row

    def texts(row, columns, locale: Moments) -> list[str]:
        found = []
        for column in columns:
            value = row._mapping[column]
            if isinstance(value, datetime):
                found.extend(locale.texts(value))
            elif value is not None and not isinstance(value, bool):
                found.append(str(value))
        return found

    def page(key: str, values: list[str]) -> str:
        skeleton = built.get(key)
        if skeleton is None:
            html = skeletons[key]
            token = CSRF_IN_PAGE.search(html)
            # The captured page's token is replaced by this request's.
            if token:
                html = html.replace(token.group(1) or token.group(2), "\x00csrf\x00")
            skeleton = built[key] = Skeleton(html.replace("\x00csrf\x00", "{csrf}"),
                                             ["{csrf}", *values], environment)
            app.logger.info("%s: %d substitutions", key, skeleton.substitutions)
        return skeleton.render([generate_csrf(), *values])

    @app.get("/same/requests/<int:request_id>")
    def details(request_id: int):
        with engine.connect() as connection:
            account = signed_in(connection)
            row = connection.execute(sa.select(req).where(req.c.id == request_id)).first()
            if row is None:
                abort(404)
            if str(account.id) != row.buyer_ref and str(account.artist_id) != row.artist_ref \
                    and not account.is_support:
                abort(404)
            history = connection.execute(
                sa.select(hist).where(hist.c.request_id == request_id).order_by(hist.c.id)).all()
            messages = connection.execute(
                sa.select(msg).where(msg.c.request_id == request_id).order_by(msg.c.id)).all()
        locale = moments(account.locale or "en")
        values = [account.name, *texts(row, req.c.keys(), locale)]
        for entry in history:
            values += texts(entry, ("actor_name", "note", "created_at"), locale)
        for message in messages:
            values += texts(message, ("author_name", "body", "created_at"), locale)
        return page("details", values)

    def list_page(key: str, *conditions) -> str:
        query = sa.select(*list_columns).where(*conditions)
        after = request.args.get("after")
        if after:
            moment, _sep, ident = after.rpartition("~")
            when = datetime.fromisoformat(moment).astimezone(timezone.utc).replace(tzinfo=None)
            # The plugin's own keyset condition: the first part bounds the
            # index range (a plain OR makes the database walk every newer row).
            query = query.where(req.c.last_activity_at <= when,
                                sa.or_(req.c.last_activity_at < when, req.c.id < int(ident)))
        query = query.order_by(req.c.last_activity_at.desc(), req.c.id.desc()).limit(PAGE_SIZE + 1)
        with engine.connect() as connection:
            account = signed_in(connection)
            if key.startswith("inbox") and account.artist_id is None:
                abort(403)
            if key.startswith("support") and not account.is_support:
                abort(403)
            if key.startswith("inbox"):
                query = query.where(req.c.artist_ref == str(account.artist_id))
            rows = connection.execute(query).all()
        locale = moments(account.locale or "en")
        values = [account.name]
        for row in rows[:PAGE_SIZE]:
            values += texts(row, [column.name for column in list_columns], locale)
        return page(key, values)

    @app.get("/same/artist/inbox")
    def inbox():
        return list_page("inbox_deep" if request.args.get("after") else "inbox_first")

    @app.get("/same/support/requests")
    def support_list():
        conditions = []
        if request.args.get("status"):
            conditions.append(req.c.status == request.args["status"])
        if request.args.get("escalated") == "1":
            conditions.append(req.c.escalated.is_(True))
        return list_page("support_escalated" if request.args.get("escalated") == "1" else "support_status",
                         *conditions)

    @app.get("/same/requests/<int:request_id>/news")
    def news(request_id: int):
        with reader.connect() as connection:
            version = connection.scalar(sa.select(req.c.version).where(req.c.id == request_id))
        if version is None:
            abort(404)
        if version <= request.args.get("after", 0, type=int):
            return "", 204
        return "", 286

    return app


def make_app() -> Flask:
    skeletons = json.loads(Path(os.environ["BENCH_SKELETONS"]).read_text(encoding="utf-8"))
    return create_app(os.environ["BENCH_DATABASE_URL"],
                      os.environ.get("BENCH_SECRET_KEY", "benchmark-only-secret-key"), skeletons)


app = make_app() if os.environ.get("BENCH_DATABASE_URL") and os.environ.get("BENCH_SKELETONS") else None
