"""The quiet poll's one read: a request's version, by primary key, outside
any transaction.

Both ways of answering "nothing new" use it: the details view
(:func:`.views.details.request_news`) and the shortcut that answers before
Flask sets up a request (:mod:`.poll_shortcut`).
"""

from __future__ import annotations

import sqlalchemy as sa

from .models import Request
from .state import current_state

#: The poll's one read, built once.
_VERSION_OF = sa.select(Request.version).where(Request.id == sa.bindparam("id"))


def engine() -> sa.Engine:
    """The engine the plugin's requests live on: the shop's Flask-SQLAlchemy
    bind for the ``Request`` model (needs an app context)."""
    return current_state().session.get_bind(mapper=sa.inspect(Request)).engine


def read(bind: sa.Engine, request_id: int) -> int | None:
    """The version of request ``request_id``, ``None`` when there is none."""
    # Outside the ORM session and without a transaction: one statement, one
    # round trip (no BEGIN, no ROLLBACK).
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        version: int | None = connection.execute(_VERSION_OF, {"id": request_id}).scalar()
    return version
