"""The seeded demo database, made once per test process and copied on SQLite.

Seeding the demo (its accounts, artists, products and orders) costs more than
most tests; on SQLite a test's database is instead a copy of a database
seeded once, through SQLite's backup (a few milliseconds, and safe with a
connection of the app still open). Two templates: everyone reads English
(the tests' default), or the seeded languages (what ``seed()`` itself writes:
Camille and Atelier Lune read French).

The seeded dates count back from the first use in the process (orders placed
days ago): no test can tell them from a seed made at its own start.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mirette_returns_plugin.demo import create_app
from mirette_returns_plugin.demo.models import Account, db
from mirette_returns_plugin.demo.seed import seed
from mirette_returns_plugin.models import Base as ReturnsBase

#: The two templates of this process, by "everyone reads English".
_TEMPLATES: dict[bool, Path] = {}


def seed_demo(*, english: bool) -> None:
    """Seed the demo shop into the app's empty tables. Needs an app context."""
    seed()
    if english:
        db.session.execute(sa.update(Account).values(locale="en"))
        db.session.commit()


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL, or ``None`` for any other database (or one in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def restore(url: str, *, english: bool) -> bool:
    """Make the SQLite database at ``url`` a freshly seeded demo shop (its
    schema included); ``False``, doing nothing, when ``url`` is not a file of
    SQLite."""
    target_file = sqlite_file(url)
    if target_file is None:
        return False
    source, target = sqlite3.connect(_template(english)), sqlite3.connect(target_file)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return True


def _template(english: bool) -> Path:
    if english not in _TEMPLATES:
        if not _TEMPLATES:
            folder = Path(tempfile.mkdtemp(prefix="mirette-seeded-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
        else:
            folder = next(iter(_TEMPLATES.values())).parent
        path = folder / ("english.sqlite3" if english else "languages.sqlite3")
        _seed_into(path, english=english)
        _TEMPLATES[english] = path
    return _TEMPLATES[english]


def _seed_into(path: Path, *, english: bool) -> None:
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        db.metadata.create_all(connection)
        ReturnsBase.metadata.create_all(connection)
    engine.dispose()
    seeding = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "DEMO_SEED": False,
                          "MAIL_SUPPRESS_SEND": True, "SERVER_NAME": "shop.test",
                          "MIRETTE_RETURNS_PHOTO_DIR": str(path.parent / "photos")})
    with seeding.app_context():
        seed_demo(english=english)
        db.session.remove()
        db.engine.dispose()
