"""The shop's templates: the layout the plugin's pages extend, and the page that shows an order."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask
from jinja2 import TemplateError

from ..mount_checks import REQUIRED_BLOCKS, SETTING, defined_blocks
from .inventory import split_words

LAYOUT_NAMES = ("layout", "base", "_layout", "_base", "main")


@dataclass(frozen=True)
class OrderTemplate:
    name: str
    #: The variable the template shows the order as (``purchase`` in ``{{ purchase.number }}``).
    variable: str


def _shop_templates(app: Flask) -> list[str]:
    try:
        names = app.jinja_env.list_templates()
    except TypeError:  # a loader that cannot list its templates
        return []
    return [name for name in names if not name.startswith("mirette_returns/") and name.endswith(".html")]


def layout(app: Flask) -> tuple[str | None, str]:
    """The base template to name in the settings, and why."""
    configured = app.config.get(SETTING)
    if configured and configured != "mirette_returns/base.html":
        return configured, f"the app already sets {SETTING}"
    for name in _shop_templates(app):
        stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if stem not in LAYOUT_NAMES:
            continue
        try:
            blocks = defined_blocks(app.jinja_env, name)
        except TemplateError:
            continue
        if blocks is not None and set(REQUIRED_BLOCKS) <= blocks:
            return name, f"{name} defines the blocks {', '.join(REQUIRED_BLOCKS)}"
        if blocks is not None and "content" in blocks:
            missing = sorted(set(REQUIRED_BLOCKS) - blocks)
            return name, f"{name} is the layout, but add {', '.join(missing)} block(s) to it"
    return None, "no layout with a content block was found: the plugin's own plain layout is used"


def order_template(app: Flask, order_words: set[str]) -> OrderTemplate | None:
    """The template that shows one order (``order.html`` rather than ``orders.html``)."""
    best: tuple[int, str] | None = None
    for name in _shop_templates(app):
        stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
        words = split_words(stem)
        if not words or not set(words) & order_words:
            continue
        score = 3 if stem in order_words else 2 if words[-1] in order_words else 1
        if best is None or score > best[0]:
            best = (score, name)
    if best is None:
        return None
    assert app.jinja_env.loader is not None  # a Flask app's environment always has its loader
    source = app.jinja_env.loader.get_source(app.jinja_env, best[1])[0]
    used = re.findall(r"\{\{[^}]*?\b([a-z_][a-z0-9_]*)\.[a-z_]", source)
    variable = next((v for v in used if v in order_words), None) or next(
        (v for v in used if set(split_words(v)) & order_words), None) or "order"
    return OrderTemplate(best[1], variable)
