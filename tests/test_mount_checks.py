"""A wrongly mounted plugin fails early, with the fix in the message."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Blueprint, Flask
from flask_babel import Babel

from mirette_returns_plugin import ConfigurationError, MiretteReturns
from mirette_returns_plugin.demo.adapter import DemoShopAdapter
from mirette_returns_plugin.demo.models import db

GOOD = ("<html><head><title>{% block title %}{% endblock %}</title>{% block head %}{% endblock %}</head>"
        "<body><nav>Shop nav</nav>{% block content %}{% endblock %}</body></html>")
NO_HEAD = "<html><title>{% block title %}{% endblock %}</title><body>{% block content %}{% endblock %}</body></html>"


def shop(tmp_path: Path, templates: dict[str, str], *, base: str, in_blueprint: bool = False,
         babel: bool = False) -> Flask:
    """A shop whose layout lives in its app folder, or in a blueprint registered after the plugin."""
    folder = tmp_path / "templates"
    for name, text in templates.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    app = Flask("shop", template_folder=None if in_blueprint else str(folder), instance_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="x", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                      MIRETTE_RETURNS_BASE_TEMPLATE=base)
    db.init_app(app)
    if babel:
        Babel(app)
    MiretteReturns(app, adapter=DemoShopAdapter())
    if in_blueprint:
        app.register_blueprint(Blueprint("theme", __name__, template_folder=str(folder)))
    return app


def plugin_page(app: Flask):
    return app.test_client().get("/returns/artist/inbox")


def test_a_layout_in_the_app_folder_without_a_block_fails_at_init_app(tmp_path):
    with pytest.raises(ConfigurationError) as error:
        shop(tmp_path, {"layout.html": NO_HEAD}, base="layout.html")
    message = str(error.value)
    assert "The base template 'layout.html' (MIRETTE_RETURNS_BASE_TEMPLATE) has no block 'head'" in message
    assert "Add {% block head %}{% endblock %} to it" in message


def test_a_layout_in_a_later_blueprint_is_checked_at_the_first_plugin_request(tmp_path):
    app = shop(tmp_path, {"theme/layout.html": NO_HEAD}, base="theme/layout.html", in_blueprint=True)
    with pytest.raises(ConfigurationError, match=r"'theme/layout.html' .* has no block 'head'"):
        plugin_page(app)
    # The check stays until the layout is fixed.
    with pytest.raises(ConfigurationError):
        plugin_page(app)


def test_a_layout_nobody_has_names_the_setting(tmp_path):
    app = shop(tmp_path, {}, base="theme/missing.html", in_blueprint=True)
    with pytest.raises(ConfigurationError) as error:
        plugin_page(app)
    assert "MIRETTE_RETURNS_BASE_TEMPLATE names 'theme/missing.html', but no template folder" in str(error.value)


def test_blocks_inherited_from_the_layouts_parent_count(tmp_path):
    parent = GOOD.replace("<nav>Shop nav</nav>", "<nav>{% block nav %}{% endblock %}</nav>")
    child = '{% extends "base.html" %}{% block nav %}Account menu{% endblock %}'
    app = shop(tmp_path, {"base.html": parent, "layout.html": child}, base="layout.html")
    assert "<nav>Account menu</nav>" in plugin_page(app).get_data(as_text=True)
    missing_parent = '{% extends "gone.html" %}{% block title %}{% endblock %}'
    with pytest.raises(ConfigurationError, match=r"extends 'gone\.html', which no template folder has"):
        plugin_page(shop(tmp_path / "other", {"theme/layout.html": missing_parent}, base="theme/layout.html",
                         in_blueprint=True))


def test_a_good_layout_renders_the_plugin_page_inside_it(tmp_path):
    response = plugin_page(shop(tmp_path, {"layout.html": GOOD}, base="layout.html"))
    html = response.get_data(as_text=True)
    # A visitor is told the inbox is for artists, inside the shop's layout with the plugin's CSS.
    assert response.status_code == 403 and "This page is for the people who sell in this shop." in html
    assert "<nav>Shop nav</nav>" in html and "mirette-returns.css" in html


def test_the_default_layout_passes(tmp_path):
    app = shop(tmp_path, {}, base="mirette_returns/base.html")
    assert "mr-standalone" in plugin_page(app).get_data(as_text=True)


def test_a_layout_that_does_not_parse_says_where(tmp_path):
    app = shop(tmp_path, {"theme/layout.html": "{% block title %}"}, base="theme/layout.html", in_blueprint=True)
    with pytest.raises(ConfigurationError, match=r"'theme/layout.html' .* does not parse: .*line 1"):
        plugin_page(app)


TRANSLATED = GOOD.replace("<nav>Shop nav</nav>", "<nav>{% trans %}Shop nav{% endtrans %}</nav>")


@pytest.mark.parametrize("shop_babel", [True, False], ids=["shop's Flask-Babel", "plugin's Flask-Babel"])
def test_a_layout_using_trans_is_checked_when_mounting(tmp_path, shop_babel, caplog):
    """``{% trans %}`` is parsed with the app's own Jinja environment (Flask-Babel's i18n)."""
    with pytest.raises(ConfigurationError, match=r"'layout.html' .* has no block 'head'"):
        shop(tmp_path / "broken", {"layout.html": TRANSLATED.replace("{% block head %}{% endblock %}", "")},
             base="layout.html", babel=shop_babel)
    app = shop(tmp_path / "good", {"layout.html": TRANSLATED}, base="layout.html", babel=shop_babel)
    assert "cannot be checked" not in caplog.text
    response = plugin_page(app)
    assert response.status_code == 403 and "<nav>Shop nav</nav>" in response.get_data(as_text=True)


def test_a_layout_extending_a_template_chosen_at_run_time_warns_when_mounting(tmp_path, caplog):
    child = "{% extends shop_layout %}{% block title %}{% endblock %}"
    with caplog.at_level("WARNING", logger="mirette_returns_plugin"):
        app = shop(tmp_path, {"layout.html": child, "base.html": GOOD}, base="layout.html")
    [warning] = [r for r in caplog.records if "cannot be checked" in r.getMessage()]
    assert warning.levelname == "WARNING"
    assert "'layout.html' (MIRETTE_RETURNS_BASE_TEMPLATE) cannot be checked: it extends a template chosen at " \
           "run time" in warning.getMessage()
    app.jinja_env.globals["shop_layout"] = "base.html"
    assert "<nav>Shop nav</nav>" in plugin_page(app).get_data(as_text=True)


def test_a_layout_with_a_tag_no_extension_knows_warns_when_mounting(tmp_path, caplog):
    layout = GOOD.replace("<nav>Shop nav</nav>", "<nav>{% shopmenu %}</nav>")
    with caplog.at_level("WARNING", logger="mirette_returns_plugin"):
        app = shop(tmp_path, {"layout.html": layout}, base="layout.html")
    [warning] = [r for r in caplog.records if "cannot be checked" in r.getMessage()]
    assert "'layout.html' (MIRETTE_RETURNS_BASE_TEMPLATE) cannot be checked when mounting" in warning.getMessage()
    assert "shopmenu" in warning.getMessage()
    # Still unknown at the first page: the message says where, not a bare 500.
    with pytest.raises(ConfigurationError, match=r"'layout.html' .* does not parse: .*shopmenu"):
        plugin_page(app)
