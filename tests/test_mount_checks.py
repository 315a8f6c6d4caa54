"""A wrongly mounted plugin fails early, with the fix in the message."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Blueprint, Flask

from mirette_returns_plugin import ConfigurationError, MiretteReturns
from mirette_returns_plugin.demo.adapter import DemoShopAdapter
from mirette_returns_plugin.demo.models import db

GOOD = ("<html><head><title>{% block title %}{% endblock %}</title>{% block head %}{% endblock %}</head>"
        "<body><nav>Shop nav</nav>{% block content %}{% endblock %}</body></html>")
NO_HEAD = "<html><title>{% block title %}{% endblock %}</title><body>{% block content %}{% endblock %}</body></html>"


def shop(tmp_path: Path, templates: dict[str, str], *, base: str, in_blueprint: bool = False) -> Flask:
    """A shop whose layout lives in its app folder, or in a blueprint registered after the plugin."""
    folder = tmp_path / "templates"
    for name, text in templates.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    app = Flask("shop", template_folder=None if in_blueprint else str(folder), instance_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="x", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                      MIRETTE_RETURNS_BASE_TEMPLATE=base)
    db.init_app(app)
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
    with pytest.raises(ConfigurationError, match="extends 'gone.html', which no template folder has"):
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
