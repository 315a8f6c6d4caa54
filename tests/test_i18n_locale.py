"""Which language the plugin speaks: the shop's choice first, and each email in its reader's.

The pages come first from the shop's own Flask-Babel locale selector, then
from the adapter's ``User.locale``, then from the browser's
``Accept-Language``, then from the shop's default. A shop's own catalogues
(``MIRETTE_RETURNS_TRANSLATIONS_DIRS``) reword strings and add languages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po
from flask import Flask
from flask_babel import Babel, get_locale

from mirette_returns_plugin import MiretteReturns, workflow
from mirette_returns_plugin.adapter import User
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import HistoryEntry, OutboxEmail
from tests.flows import submit_line
from tests.i18nkit import spaces, visible_text
from tests.shop import BOIS, CAMILLE, SUPPORT, user

NOBODY = object()

ENGLISH = "This order does not exist."
FRENCH = "Cette commande n'existe pas."
#: The page's title, from the plugin's catalogue too (a second string).
FRENCH_TITLE = "Retours et échanges"


class OnePersonShop:
    """The smallest adapter: one signed-in person (or nobody), no orders."""

    def __init__(self, locale: str | object | None = NOBODY) -> None:
        self.locale = locale

    def current_user(self) -> User | None:
        if self.locale is NOBODY:
            return None
        return User(ref="1", name="Ana", email="ana@shop.example", locale=self.locale)

    def orders_for_buyer(self, buyer_ref: str) -> list:
        return []

    def get_order(self, order_ref: str) -> None:
        return None

    def get_artist(self, artist_ref: str) -> None:
        return None

    def exchange_options(self, order_ref: str, line_ref: str) -> list:
        return []

    def support_emails(self) -> list[str]:
        return []

    def refuse_part(self, order_ref: str, artist_ref: str) -> None:
        return None

    def initiate_refund(self, refund):
        raise NotImplementedError

    def order_url(self, order_ref: str) -> None:
        return None

    def product_url(self, product_ref: str) -> None:
        return None

    def artist_url(self, artist_ref: str) -> None:
        return None


def shop(tmp_path: Path, *, person: object = NOBODY, babel: str | None = None, selector=None,
         babel_after: bool = False, **config: object) -> Flask:
    """A bare shop with the plugin mounted.

    ``babel``: ``"own"`` sets up the shop's Flask-Babel (with ``selector``)
    before the plugin, ``None`` lets the plugin set one up; ``babel_after``
    sets up the shop's Flask-Babel, without a selector, after the plugin.
    """
    app = Flask("languages_shop", instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="languages", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'shop.sqlite3'}",
                      MAIL_DEFAULT_SENDER="Shop <orders@shop.example>",
                      MIRETTE_RETURNS_EXTERNAL_BASE_URL="https://shop.example", **config)
    db.init_app(app)
    if babel == "own":
        Babel(app, locale_selector=selector)
    MiretteReturns(app, adapter=OnePersonShop(person))
    if babel_after:
        Babel(app)
    return app


def read(app: Flask, accept_language: str | None = None) -> tuple[str, str]:
    """The 404 page of an unknown order: its ``<html lang>`` and its words."""
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = app.test_client().get("/returns/orders/404", headers=headers)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    lang = html.split('<html lang="', 1)[1].split('"', 1)[0]
    return lang, visible_text(html)


# --------------------------------------------------------------------------- #
# The language of the pages
# --------------------------------------------------------------------------- #


def test_the_shops_own_locale_selector_wins_over_the_person_and_the_browser(tmp_path: Path) -> None:
    app = shop(tmp_path, person="en", babel="own", selector=lambda: "fr")
    lang, text = read(app, "en")
    assert lang == "fr"
    assert FRENCH in text and FRENCH_TITLE in text
    assert ENGLISH not in text

    other = shop(tmp_path / "other", person="fr", babel="own", selector=lambda: "en")
    lang, text = read(other, "fr")
    assert lang == "en"
    assert ENGLISH in text and FRENCH not in text


def test_without_a_shop_selector_the_adapter_says_the_persons_language(tmp_path: Path) -> None:
    # The shop has no Flask-Babel: the plugin sets one up.
    app = shop(tmp_path, person="fr")
    assert "babel" in app.extensions
    lang, text = read(app, "en")
    assert (lang, FRENCH in text) == ("fr", True)

    # The shop has Flask-Babel without a selector: the plugin gives it its own.
    with_babel = shop(tmp_path / "b", person="fr", babel="own")
    assert read(with_babel, "en")[0] == "fr"

    # Same when the shop sets up Flask-Babel after mounting the plugin.
    later = shop(tmp_path / "c", person="fr", babel_after=True)
    lang, text = read(later, "en")
    assert (lang, FRENCH in text) == ("fr", True)


def test_a_persons_language_is_read_as_the_shop_stores_it(tmp_path: Path) -> None:
    app = shop(tmp_path, person="fr-FR")
    lang, text = read(app, "en")
    assert lang == "fr-FR"
    assert FRENCH in text


def test_then_the_browsers_accept_language(tmp_path: Path) -> None:
    anonymous = shop(tmp_path)
    lang, text = read(anonymous, "fr-CA,fr;q=0.9,en;q=0.5")
    assert lang == "fr" and FRENCH in text
    lang, text = read(anonymous, "en-GB,en;q=0.8,fr;q=0.5")
    assert lang == "en" and ENGLISH in text

    # A person whose language the plugin cannot show: the browser decides.
    unknown = shop(tmp_path / "u", person="tlh")
    assert read(unknown, "fr")[0] == "fr"
    no_catalogue = shop(tmp_path / "d", person="de")
    lang, text = read(no_catalogue, "fr")
    assert lang == "fr" and FRENCH in text


def test_last_the_shops_default_language(tmp_path: Path) -> None:
    english_default = shop(tmp_path)
    assert read(english_default, "de")[0] == "en"
    assert read(english_default)[0] == "en"

    french_default = shop(tmp_path / "fr", BABEL_DEFAULT_LOCALE="fr")
    lang, text = read(french_default, "de")
    assert lang == "fr" and FRENCH in text


def test_more_languages_may_be_offered_to_browsers(tmp_path: Path) -> None:
    app = shop(tmp_path, MIRETTE_RETURNS_LOCALES=["it"])
    lang, text = read(app, "it")
    # No Italian catalogue: English words, Italian formats and <html lang>.
    assert lang == "it"
    assert ENGLISH in text


# --------------------------------------------------------------------------- #
# A shop's own catalogues
# --------------------------------------------------------------------------- #


def write_catalogue(folder: Path, locale: str, messages: dict[str, str], *, compiled: bool) -> None:
    """``<folder>/<locale>/LC_MESSAGES/mirette_returns.po`` (and its ``.mo`` if ``compiled``)."""
    catalog = Catalog(locale=locale, domain="mirette_returns")
    for english, translated in messages.items():
        catalog.add(english, translated)
    target = folder / locale / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "mirette_returns.po").open("wb") as handle:
        write_po(handle, catalog)
    if compiled:
        with (target / "mirette_returns.mo").open("wb") as handle:
            write_mo(handle, catalog)


def test_a_shops_catalogue_rewords_a_string_and_keeps_the_others(tmp_path: Path) -> None:
    folder = tmp_path / "shop_translations"
    write_catalogue(folder, "fr", {ENGLISH: "Commande introuvable."}, compiled=True)
    app = shop(tmp_path, person="fr", MIRETTE_RETURNS_TRANSLATIONS_DIRS=[str(folder)])

    _lang, text = read(app)
    assert "Commande introuvable." in text
    assert FRENCH not in text
    # Every string the shop did not reword keeps the plugin's French.
    assert FRENCH_TITLE in text

    # Another shop in the same process, without the folder, is not affected.
    plain = shop(tmp_path / "plain", person="fr")
    assert FRENCH in read(plain)[1]


def test_a_shops_catalogue_adds_a_language_even_as_a_po_alone(tmp_path: Path) -> None:
    folder = tmp_path / "translations"
    write_catalogue(folder, "de", {ENGLISH: "Diese Bestellung gibt es nicht.",
                                   "Returns and exchanges": "Rücksendungen und Umtausch"}, compiled=False)
    # A relative folder is under the app's root, like Flask-Babel's own.
    app = shop(tmp_path, person="de", MIRETTE_RETURNS_TRANSLATIONS_DIRS=str(folder))
    lang, text = read(app, "en")
    assert lang == "de"
    assert "Diese Bestellung gibt es nicht." in text and "Rücksendungen und Umtausch" in text

    # The new language is offered to browsers too.
    anonymous = shop(tmp_path / "anonymous", MIRETTE_RETURNS_TRANSLATIONS_DIRS=[str(folder)])
    lang, text = read(anonymous, "de-AT,de;q=0.9")
    assert lang == "de" and "Diese Bestellung gibt es nicht." in text


def test_the_first_shop_folder_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_catalogue(first, "fr", {ENGLISH: "Premier dossier."}, compiled=True)
    write_catalogue(second, "fr", {ENGLISH: "Second dossier.", "Returns and exchanges": "Vos retours"},
                    compiled=True)
    app = shop(tmp_path, person="fr", MIRETTE_RETURNS_TRANSLATIONS_DIRS=f"{first};{second}")
    text = read(app)[1]
    assert "Premier dossier." in text and "Second dossier." not in text
    assert "Vos retours" in text


# --------------------------------------------------------------------------- #
# Emails: the recipient's language, not the sender's
# --------------------------------------------------------------------------- #


@pytest.mark.seeded_languages
def test_a_french_buyer_and_an_english_artist_each_read_their_own_language(app: Flask) -> None:
    # Camille reads French, Bois & Fil English; support acts from a page shown in French.
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert str(get_locale()) == "fr"
        request = submit_line(order="MIR-1003", product="Oak chopping board")
        workflow.perform(user(SUPPORT), request.id, "accept", note="Renvoyez-la avec l'étiquette fournie.")
        accepted = db.session.scalar(sa.select(HistoryEntry.id).where(
            HistoryEntry.request_id == request.id, HistoryEntry.action == "accept"))
        rows = {row.recipient: WrittenEmail(row) for row in db.session.scalars(
            sa.select(OutboxEmail).where(OutboxEmail.event_key.like(f"history-{accepted}:%")))}
        camille, bois = rows[CAMILLE], rows[BOIS]

        assert (camille.locale, bois.locale) == ("fr", "en")
        assert "Bonjour Camille Martin," in camille.body_text
        assert "a accepté la demande et donné les instructions de retour ci-dessous." in camille.body_text
        assert "Statut : Acceptée – instructions de retour transmises" in spaces(camille.body_text)
        assert spaces(camille.subject).endswith("Oak chopping board : Acceptée – instructions de retour transmises")
        assert '<html lang="fr">' in camille.body_html

        assert "Hello Bois & Fil," in bois.body_text
        assert "accepted the request and gave the return instructions below." in bois.body_text
        assert "Status: Accepted - return instructions given" in bois.body_text
        assert bois.subject.endswith("Oak chopping board: Accepted - return instructions given")
        assert '<html lang="en">' in bois.body_html
        assert "Bonjour" not in bois.body_text
        db.session.remove()
