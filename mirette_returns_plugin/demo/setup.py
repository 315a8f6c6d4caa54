"""Create the demo's tables and seed them on first start."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from ..models import Base as ReturnsBase
from .models import Account, db
from .seed import seed


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
    ReturnsBase.metadata.create_all(engine)
    seed()
