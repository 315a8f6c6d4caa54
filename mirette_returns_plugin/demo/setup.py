"""Create the demo's tables and seed them on first start."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, current_app

from .. import migrate
from .models import Account, db
from .seed import seed
from .story import tell_story


def install(app: Flask) -> None:
    """On an empty database, create every table and seed the demo shop.

    ``DEMO_SEED=False`` in the config leaves the database alone (tests).
    """
    if not app.config.get("DEMO_SEED", True):
        return
    with app.app_context():
        reset_database(only_if_empty=True)


def reset_database(*, only_if_empty: bool = False) -> None:
    """Create the shop's and the plugin's tables and seed them."""
    engine = db.engine
    if only_if_empty and sa.inspect(engine).has_table(Account.__tablename__):
        return
    db.create_all()
    migrate.upgrade(engine=engine)  # the plugin's tables, as a shop creates them
    seed()
    # The story goes through the plugin's workflow, which builds links to the
    # shop's pages: it needs a request, at the address the demo is served on.
    with current_app.test_request_context("/", base_url=current_app.config.get("DEMO_BASE_URL")):
        tell_story()


def drop_everything() -> None:
    """Drop every table of the demo's database, whoever created it."""
    engine = db.engine
    db.session.remove()
    tables = sa.MetaData()
    tables.reflect(engine)
    tables.drop_all(engine)
