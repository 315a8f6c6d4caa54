"""The plugin uses Flask-Babel through its public API alone.

It never writes Flask-Babel's private per-context state, never replaces the
shop's locale selector, and keeps its own per-context memo (the catalogue,
the date patterns) in its own slot.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, g
from flask_babel import Babel, force_locale, get_babel, get_locale

from mirette_returns_plugin import MiretteReturns
from mirette_returns_plugin.i18n import gettext
from mirette_returns_plugin.models import utcnow
from mirette_returns_plugin.moments import when
from tests.test_i18n_locale import ENGLISH, FRENCH, OnePersonShop, read

PACKAGE = Path(__file__).resolve().parent.parent / "mirette_returns_plugin"

#: What Flask-Babel itself keeps per context (``force_locale``, ``refresh``, its domain).
FLASK_BABELS_OWN = {"babel_locale", "babel_tzinfo", "babel_translations", "babel_domain", "forced_babel_locale"}


def a_shop(tmp_path: Path, *, selector=None, babel: bool = True, person: object = "fr") -> Flask:
    """A bare shop with a page of its own, its Flask-Babel set up before the plugin."""
    app = Flask("babel_shop", instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="babel", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'shop.sqlite3'}",
                      MAIL_DEFAULT_SENDER="Shop <orders@shop.example>",
                      MIRETTE_RETURNS_EXTERNAL_BASE_URL="https://shop.example")
    from mirette_returns_plugin.demo.models import db

    db.init_app(app)
    if babel:
        Babel(app, locale_selector=selector)
    MiretteReturns(app, adapter=OnePersonShop(person))

    @app.get("/shop-page")
    def shop_page() -> str:
        return str(get_locale())

    return app


def test_no_source_of_the_plugin_touches_flask_babels_private_state():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "_flask_babel" in text or re.search(r"\.locale_selector\s*=[^=]", text) \
                or re.search(r"\.timezone_selector\s*=[^=]", text):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_the_shops_selector_answers_for_its_pages_and_the_plugins_and_stays_in_place(tmp_path: Path):
    asked: list[str] = []

    def shop_selector() -> str:
        asked.append("asked")
        return "fr"

    app = a_shop(tmp_path, selector=shop_selector, person="en")
    client = app.test_client()
    assert client.get("/shop-page").get_data(as_text=True) == "fr"
    lang, text = read(app, "en")
    assert lang == "fr" and FRENCH in text
    assert len(asked) == 2, "once per page: the shop's own page and the plugin's"
    assert get_babel(app).locale_selector is shop_selector


def test_a_shop_babel_without_selector_keeps_none_and_its_own_pages_keep_its_default(tmp_path: Path):
    app = a_shop(tmp_path, person="fr")
    client = app.test_client()
    assert read(app, "en")[0] == "fr", "the plugin's page in the person's language"
    assert client.get("/shop-page", headers={"Accept-Language": "fr"}).get_data(as_text=True) == "en"
    assert get_babel(app).locale_selector is None


def test_the_plugin_keeps_nothing_in_flask_babels_state(tmp_path: Path):
    app = a_shop(tmp_path, selector=lambda: "fr")
    with app.test_request_context():
        assert gettext(ENGLISH) == FRENCH
        when(utcnow())
        with force_locale("en"):
            assert gettext(ENGLISH) == ENGLISH, "force_locale is obeyed"
            when(utcnow())
        assert gettext(ENGLISH) == FRENCH, "and undone"
        kept = set(vars(g._flask_babel))  # read here only, to check nobody else wrote there
        assert kept <= FLASK_BABELS_OWN, kept - FLASK_BABELS_OWN
        assert "mirette_returns_locale_memo" in g, "the plugin's memo is its own"


def test_without_flask_babel_the_plugin_sets_one_up_with_its_own_selector(tmp_path: Path):
    app = a_shop(tmp_path, babel=False, person="fr")
    from mirette_returns_plugin.locales import select_locale

    assert get_babel(app).locale_selector is select_locale
    assert read(app, "en")[0] == "fr"
