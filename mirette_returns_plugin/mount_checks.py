"""Checks that catch a wrongly mounted plugin before a page breaks.

The shop's base template (``MIRETTE_RETURNS_BASE_TEMPLATE``) must define the
blocks the plugin's pages fill. It is checked when the plugin is mounted if
the template can already be found then (the app's own ``templates/`` folder),
otherwise on the first request to a plugin page, when every blueprint of the
shop is registered. Either way a wrong layout fails with a
:class:`~mirette_returns_plugin.errors.ConfigurationError` that names the
template, the missing block and the fix, not with a blank page.

The template is parsed by the app's own Jinja environment, with the shop's
extensions (``{% trans %}`` from Flask-Babel's i18n, say): a bare environment
would not know their tags. A layout that cannot be checked when mounting
(its parent chosen at run time, or a tag no extension of the app knows yet)
is said so in a warning of the ``mirette_returns_plugin`` logger, naming the
template and why.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app
from jinja2 import Environment, TemplateNotFound, TemplateSyntaxError, nodes

from .errors import ConfigurationError

#: Blocks every page of the plugin fills: keep in step with the templates.
REQUIRED_BLOCKS: tuple[str, ...] = ("title", "head", "content")

#: The setting that names the base template (for messages).
SETTING = "MIRETTE_RETURNS_BASE_TEMPLATE"

log = logging.getLogger("mirette_returns_plugin")


def defined_blocks(environment: Environment, name: str) -> set[str] | None:
    """Blocks ``name`` defines, following its ``{% extends %}`` chain.

    ``None`` when a parent is chosen at run time (``{% extends layout %}``),
    so nothing can be said without rendering.
    """
    found: set[str] = set()
    seen: set[str] = set()
    current: str | None = name
    while current is not None and current not in seen:
        seen.add(current)
        assert environment.loader is not None  # a Flask app's environment always has its loader
        source, filename, _uptodate = environment.loader.get_source(environment, current)
        tree = environment.parse(source, current, filename)
        found.update(block.name for block in tree.find_all(nodes.Block))
        extends = tree.find(nodes.Extends)
        if extends is None:
            current = None
        elif isinstance(extends.template, nodes.Const) and isinstance(extends.template.value, str):
            current = extends.template.value
        else:
            return None
    return found


def base_template_problem(environment: Environment, name: str) -> str | None:
    """What is wrong with the base template, as a message with the fix; ``None`` if nothing."""
    blocks = defined_blocks(environment, name)
    if blocks is None:
        return None
    missing = [block for block in REQUIRED_BLOCKS if block not in blocks]
    if not missing:
        return None
    tags = " ".join(f"{{% block {block} %}}{{% endblock %}}" for block in missing)
    return (
        f"The base template {name!r} ({SETTING}) has no block {', '.join(repr(b) for b in missing)}: "
        f"the plugin's pages fill the blocks {', '.join(REQUIRED_BLOCKS)}. Add {tags} to it "
        "(title inside <title>, head inside <head>, content where the page body goes)."
    )


def _not_found_message(name: str, missing: str) -> str:
    if missing == name:
        return (f"{SETTING} names {name!r}, but no template folder of the app or its blueprints has it. "
                "Fix the name, or put the layout in your templates folder.")
    return f"The base template {name!r} ({SETTING}) extends {missing!r}, which no template folder has."


def check_base_template(app: Flask, blueprint: Blueprint, name: str) -> None:
    """Check the base template now if it can be found, else at the first plugin request.

    Call before ``app.register_blueprint(blueprint)``, once the app's Jinja
    extensions are in place (Flask-Babel's included).
    """
    try:
        blocks = defined_blocks(app.jinja_env, name)
    except TemplateNotFound:
        # In the folder of a blueprint registered later: looked at when a
        # page is asked for, once every blueprint is there.
        pass
    except TemplateSyntaxError as error:
        # Broken, or using a tag of an extension the shop adds after mounting
        # the plugin: said now, and checked again at the first page.
        log.warning("mirette-returns: the base template %r (%s) cannot be checked when mounting: %s "
                    "(line %s). It is checked again at the first page of the plugin.",
                    name, SETTING, error.message, error.lineno)
    else:
        if blocks is None:
            log.warning("mirette-returns: the base template %r (%s) cannot be checked: it extends a "
                        "template chosen at run time. Make sure that template defines the blocks %s.",
                        name, SETTING, ", ".join(REQUIRED_BLOCKS))
            return
        problem = base_template_problem(app.jinja_env, name)
        if problem:
            raise ConfigurationError(problem)
        return

    # The blueprint is made for this app alone, so one flag per closure is enough.
    done = False

    def check_at_first_request() -> None:
        nonlocal done
        if done:
            return
        try:
            problem_now = base_template_problem(current_app.jinja_env, name)
        except TemplateNotFound as missing:
            raise ConfigurationError(_not_found_message(name, str(missing.name))) from None
        except TemplateSyntaxError as error:
            raise ConfigurationError(
                f"The base template {name!r} ({SETTING}) does not parse: {error.message} "
                f"(line {error.lineno} of {error.filename or error.name})."
            ) from None
        if problem_now:
            raise ConfigurationError(problem_now)
        done = True

    blueprint.before_request(check_at_first_request)
