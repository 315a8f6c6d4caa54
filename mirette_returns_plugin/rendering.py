"""Render a page, or some of its named blocks as a fragment for htmx.

A fragment is never a copy of a page's markup: it is a named block of the
page template rendered on its own, with the same context. Every answer says
``Vary: HX-Request`` (see :mod:`.htmx`).

Templates get the plugin's own ``_``/``gettext``/``ngettext`` (so the plugin's
catalogue wins over the shop's), the CSRF token, the ``mr`` helpers and the
``ui`` macros (``mirette_returns/_ui.html``) in their context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Response, current_app, make_response, render_template, session, url_for
from flask_babel import format_decimal, get_locale
from markupsafe import Markup

from . import amounts, htmx, labels, moments, words as shop_words
from .csrf import csrf_token, field_name
from .i18n import bound_catalogue
from .links import safe_url
from .reasons import ReasonCatalogue
from .state import current_state
from .user_text import neutral_bidi

#: Template whose macros every page gets as ``ui``.
UI_TEMPLATE = "mirette_returns/_ui.html"

#: Session key of the one-off notice shown after a redirect.
NOTICE_KEY = "mirette_returns_notice"


class Helpers:
    """Formatting helpers, as ``mr`` in every template."""

    money = staticmethod(amounts.money)

    when = staticmethod(moments.when)
    day = staticmethod(moments.day)
    #: A shop-supplied URL for an ``href`` or ``src``, or ``None`` (see :mod:`.links`).
    safe_url = staticmethod(safe_url)
    #: A text someone typed, its bidirectional controls made harmless (see :mod:`.user_text`).
    user_text = staticmethod(neutral_bidi)

    @staticmethod
    def iso(moment: datetime | None) -> str:
        return moment.isoformat() if moment else ""

    @staticmethod
    def number(value: Decimal | int) -> str:
        if isinstance(value, Decimal):
            value = value.normalize()
        return format_decimal(value)

    @staticmethod
    def status_label(status: str, kind: str | None = None) -> str:
        return labels.status_label(status, kind)

    @staticmethod
    def kind_label(kind: str) -> str:
        return labels.kind_label(kind)

    @property
    def locale(self) -> str:
        locale = get_locale()
        return str(locale).replace("_", "-") if locale else "en"

    @property
    def reasons(self) -> ReasonCatalogue:
        return current_state().reasons

    @property
    def message_max_length(self) -> int:
        return int(current_state().config["MESSAGE_MAX_LENGTH"])

    @staticmethod
    def static(filename: str) -> str:
        return url_for(f"{current_state().blueprint_name}.static", filename=f"mirette_returns/{filename}")

    @property
    def include_htmx(self) -> bool:
        return bool(current_state().config["INCLUDE_HTMX"])

    @property
    def htmx_config(self) -> str:
        return htmx.config_json()

    @property
    def poll_seconds(self) -> int:
        return int(current_state().config["POLL_SECONDS"])

    @property
    def max_photos(self) -> int:
        return int(current_state().config["MAX_PHOTOS"])

    @property
    def marketplace(self) -> bool:
        """Whether several sellers share the shop (see :mod:`.words`)."""
        return shop_words.is_marketplace()

    @property
    def seller_label(self) -> str:
        """``Artist``, ``Seller``, ``Maker`` or ``Shop``, as the shop calls its sellers."""
        return shop_words.seller_label()


HELPERS = Helpers()


def flash_notice(message: str) -> None:
    """Show ``message`` once, on the next page of the plugin."""
    session[NOTICE_KEY] = message


def _context(extra: dict[str, Any], *, take_notice: bool = True) -> dict[str, Any]:
    # The locale stays the same through one render: its catalogue is found once.
    catalogue = bound_catalogue()
    context: dict[str, Any] = {
        "_": catalogue.gettext,
        "gettext": catalogue.gettext,
        "ngettext": catalogue.ngettext,
        # Signed once per render, however many forms the page has.
        "csrf_token": _once(csrf_token),
        "csrf_field_name": field_name(),
        "base_template": current_state().config["BASE_TEMPLATE"],
        "mr": HELPERS,
        "htmx": htmx.details(),
        "notice": session.pop(NOTICE_KEY, None) if take_notice else None,
        "oob_blocks": frozenset(),
    }
    context.update(extra)
    context["ui"] = current_app.jinja_env.get_template(UI_TEMPLATE).make_module(context)
    return context


def render_blocks(template_name: str, blocks: Sequence[str], *, oob: Iterable[str] = (),
                  status: int = 200, **context: Any) -> Response:
    """Render only ``blocks`` of ``template_name``, one after the other.

    Blocks named in ``oob`` know it (``oob_blocks``) and mark their root
    element ``hx-swap-oob`` so htmx swaps them in place by id.
    """
    values = _context({**context, "oob_blocks": frozenset(oob)})
    current_app.update_template_context(values)
    template = current_app.jinja_env.get_template(template_name)
    parts = []
    for name in blocks:
        render_block = template.blocks[name]
        parts.append("".join(render_block(template.new_context(values))))
    return _respond("".join(parts), status)


def render_partial(template_name: str, **context: Any) -> Markup:
    """A piece of a page drawn on its own, to be shown inside one (kept by
    :mod:`.fragments`): the pages' helpers, and the one-off notice left for
    the page itself."""
    values = _context(context, take_notice=False)
    current_app.update_template_context(values)
    return Markup(current_app.jinja_env.get_template(template_name).render(values))


def render_page(template_name: str, *, status: int = 200, **context: Any) -> Response:
    """Render the whole page (inside the shop's base template)."""
    return _respond(render_template(template_name, **_context(context)), status)


def render(template_name: str, *, fragment: Sequence[str] | None = None, oob: Iterable[str] = (),
           status: int = 200, **context: Any) -> Response:
    """The page, or only ``fragment`` blocks when a plain htmx request asks."""
    if fragment and htmx.wants_fragment():
        return render_blocks(template_name, fragment, oob=oob, status=status, **context)
    return render_page(template_name, status=status, **context)


def empty(status: int = 204) -> Response:
    """An answer without a body (htmx 2 and 4 swap nothing on 204)."""
    response = make_response("", status)
    return htmx.add_vary(response)


def _respond(html: str, status: int) -> Response:
    response = make_response(html, status)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return htmx.add_vary(response)


def _once(make: Callable[[], str]) -> Callable[[], str]:
    """``make``, called at most once; its answer is given again after."""
    made: list[str] = []

    def once() -> str:
        if not made:
            made.append(make())
        return made[0]
    return once
