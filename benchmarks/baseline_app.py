"""The baseline: bare Flask pages that show the same rows from the same database.

Each page runs the plain query a hand-written Flask view would (SQLAlchemy
Core, no ORM, no adapter, no sign-in) and renders the same number of rows
with a small Jinja template. ``/baseline/empty`` answers 204 and touches
nothing: the floor for the plugin's poll.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, abort, redirect, render_template, request

HERE = Path(__file__).parent
PAGE_SIZE = 25



def create_app(database_url: str) -> Flask:
    app = Flask(__name__, template_folder=str(HERE / "templates"))
    engine = sa.create_engine(database_url, pool_pre_ping=False)
    tables = sa.MetaData()
    tables.reflect(engine, only=["mirette_returns_request", "mirette_returns_message", "mirette_returns_history"])
    req = tables.tables["mirette_returns_request"]
    msg = tables.tables["mirette_returns_message"]
    hist = tables.tables["mirette_returns_history"]
    app.extensions["baseline_engine"] = engine
    list_columns = (req.c.id, req.c.kind, req.c.status, req.c.order_number, req.c.product_name,
                    req.c.buyer_name, req.c.artist_name, req.c.last_activity_at)

    def page_of(*conditions):
        """Newest activity first, 25 rows after the ``after`` cursor."""
        query = sa.select(*list_columns).where(*conditions)
        after = request.args.get("after")
        if after:
            moment, _sep, ident = after.rpartition("~")
            when = datetime.fromisoformat(moment).astimezone(timezone.utc).replace(tzinfo=None)
            query = query.where(sa.tuple_(req.c.last_activity_at, req.c.id) < sa.tuple_(when, int(ident)))
        query = query.order_by(req.c.last_activity_at.desc(), req.c.id.desc()).limit(PAGE_SIZE)
        with engine.connect() as connection:
            return connection.execute(query).all()

    @app.get("/baseline/requests/<int:request_id>")
    def details(request_id: int):
        with engine.connect() as connection:
            row = connection.execute(sa.select(req).where(req.c.id == request_id)).first()
            if row is None:
                abort(404)
            history = connection.execute(
                sa.select(hist).where(hist.c.request_id == request_id).order_by(hist.c.id)).all()
            messages = connection.execute(
                sa.select(msg).where(msg.c.request_id == request_id).order_by(msg.c.id)).all()
        return render_template("baseline/details.html", request_row=row, history=history, messages=messages)

    @app.get("/baseline/artist/<artist_ref>/inbox")
    def inbox(artist_ref: str):
        return render_template("baseline/list.html", rows=page_of(req.c.artist_ref == artist_ref),
                               title="Inbox")

    @app.get("/baseline/support/requests")
    def support_list():
        conditions = []
        if request.args.get("status"):
            conditions.append(req.c.status == request.args["status"])
        if request.args.get("escalated") == "1":
            conditions.append(req.c.escalated.is_(True))
        return render_template("baseline/list.html", rows=page_of(*conditions), title="Requests")

    @app.post("/baseline/requests/<int:request_id>/messages")
    def post_message(request_id: int):
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        with engine.begin() as connection:
            connection.execute(msg.insert().values(
                request_id=request_id, author_role="buyer", author_ref="0", author_name="Baseline",
                body=request.form.get("body", ""), created_at=now))
            connection.execute(req.update().where(req.c.id == request_id).values(last_activity_at=now))
        return redirect(f"/baseline/requests/{request_id}", code=303)

    @app.get("/baseline/empty")
    def empty():
        return "", 204

    return app


def make_app() -> Flask:
    return create_app(os.environ["BENCH_DATABASE_URL"])


app = make_app() if os.environ.get("BENCH_DATABASE_URL") else None
