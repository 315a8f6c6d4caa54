"""The shop's own words: what its sellers are called, whether it is a
marketplace, and the name buyers see when the shop's staff act for it.

Each answer comes from a setting (``MIRETTE_RETURNS_SHOP_NAME``,
``MIRETTE_RETURNS_MARKETPLACE``, ``MIRETTE_RETURNS_SELLER_WORD``), else from
the adapter's optional ``shop_name()`` and ``is_marketplace()``, else from a
default that suits a marketplace (the plugin's first shape).

Sentences name a seller by their name (``request.artist_name``), never by a
noun, so that no language has to agree an article or a gender with a word the
shop chose; the noun appears alone, on labels, each with its own translation.
"""

from __future__ import annotations

from typing import Any

from .domain import Role
from .errors import ConfigurationError
from .i18n import N_, gettext as _
from .state import current_state

#: The nouns a shop may call its sellers, as a label (``"Artist: …"``).
SELLER_LABELS: dict[str, str] = {
    "artist": N_("Artist"),
    "seller": N_("Seller"),
    "maker": N_("Maker"),
    "shop": N_("Shop"),
}


def check_settings(settings: dict[str, Any]) -> None:
    """Refuse at mount time a seller word the plugin has no translation for."""
    word = settings.get("SELLER_WORD")
    if word is not None and word not in SELLER_LABELS:
        raise ConfigurationError(
            f"MIRETTE_RETURNS_SELLER_WORD is {word!r}: give one of {', '.join(map(repr, SELLER_LABELS))}, "
            "or None for the default. To use other words, reword the labels in your own catalogue "
            "(see docs/languages.md)."
        )


def _adapter_answer(name: str) -> Any:
    method = getattr(current_state().adapter, name, None)
    return method() if callable(method) else None


def is_marketplace() -> bool:
    """Whether several sellers share the shop, each under their own terms."""
    configured = current_state().config.get("MARKETPLACE")
    if configured is not None:
        return bool(configured)
    answer = _adapter_answer("is_marketplace")
    return True if answer is None else bool(answer)


def shop_name() -> str | None:
    """The shop's name as buyers read it, if the shop gave one."""
    name = current_state().config.get("SHOP_NAME") or _adapter_answer("shop_name")
    return str(name) if name else None


def seller_word() -> str:
    word = current_state().config.get("SELLER_WORD")
    if word:
        return str(word)
    return "artist" if is_marketplace() else "shop"


def seller_label() -> str:
    """The label before a seller's name (``Artist``, ``Seller``, ``Maker``, ``Shop``), translated."""
    return _(SELLER_LABELS[seller_word()])


def subject_prefix() -> str:
    """What goes before every email subject: the setting, else the shop's name in brackets."""
    configured = current_state().config.get("MAIL_SUBJECT_PREFIX")
    if configured is not None:
        return str(configured)
    name = shop_name()
    return f"[{name}]" if name else ""


def shown_name(role: str, recorded_name: str, seller_name: str) -> str:
    """The name a reader sees for whoever took a step or wrote a message.

    Whoever acts on the seller's side acts for the seller: readers see the
    seller's name (``seller_name``), never a staff member's login name. In a
    shop that is not a marketplace its support team is its own staff too.
    """
    if role == Role.ARTIST:
        return seller_name or recorded_name
    if role == Role.SHOP:
        return shop_name() or _("The shop")
    if role == Role.SYSTEM:
        return _("The system")
    if role == Role.SUPPORT and not is_marketplace():
        return shop_name() or seller_name or recorded_name
    return recorded_name
