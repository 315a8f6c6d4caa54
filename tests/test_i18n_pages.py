"""Every page and every email, in French: French words, French numbers, French dates.

Camille (buyer) and Atelier Lune (artist) read French in the seeded demo;
the others switch with the demo's language switch. What is checked is what a
French reader gets: the words, money written ``1 234,56 €`` (Babel puts a
narrow no-break space between thousands and a no-break space before the sign)
in the order's currency, dates written the French way, and no English source
string left anywhere, the people's own data aside.
"""

from __future__ import annotations

from collections import deque
from datetime import timezone
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from flask import Flask, url_for
from flask.testing import FlaskClient

from mirette_returns_plugin import refunds, workflow
from mirette_returns_plugin.demo.mailbox import links_in
from mirette_returns_plugin.demo.models import Account, ArtistProfile, Product, ShopOrder, ShopOrderLine, Variant, db
from mirette_returns_plugin.errors import AdapterError
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import HistoryEntry, Message, OutboxEmail, Refund, Request
from tests.flows import FailingPaymentShop, shop_refunds, submit_cancellation, submit_line, take
from tests.i18nkit import NARROW_NBSP, NBSP, english_left, spaces, visible_text
from tests.shop import ALEX, BOIS, CAMILLE, LUNE, SUPPORT, VERRE, line_ref, user

pytestmark = pytest.mark.seeded_languages

UTC = timezone.utc


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def fr_money(amount: Decimal, currency: str = "EUR") -> str:
    return spaces(format_currency(amount, currency, locale="fr"))


def fr_day(moment) -> str:
    return spaces(format_date(moment.replace(tzinfo=moment.tzinfo or UTC), "medium", locale="fr"))


def fr_moment(moment) -> str:
    return spaces(format_datetime(moment.replace(tzinfo=moment.tzinfo or UTC), "medium", tzinfo=UTC,
                                  locale="fr"))


def in_french(client: FlaskClient) -> FlaskClient:
    """Press the demo's "FR" button, as someone reading English would."""
    response = client.post("/language", data={"locale": "fr", "next": "/"})
    assert response.status_code == 303
    return client


def french_page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    html = response.get_data(as_text=True)
    assert '<html lang="fr' in html, url
    return html


def user_data() -> list[str]:
    """What people and the shop typed: names, products, messages, English readers' emails."""
    values: list[str] = []
    for column in (Product.name, Product.description, Variant.name, ArtistProfile.name, ArtistProfile.craft,
                   ArtistProfile.policy_text, Account.name, Account.email, ShopOrder.number):
        values += [value for value in db.session.scalars(sa.select(column)) if value]
    for column in (Request.product_name, Request.variant, Request.comment, Request.instructions,
                   Request.decline_reason, Request.wanted_label, Request.buyer_name, Request.artist_name,
                   Request.return_tracking, Request.replacement_tracking, Message.body, HistoryEntry.note,
                   HistoryEntry.actor_name, Refund.last_error):
        values += [value for value in db.session.scalars(sa.select(column)) if value]
    english = sa.select(OutboxEmail).where(~OutboxEmail.locale.startswith("fr"))
    for email in map(WrittenEmail, db.session.scalars(english)):
        # An English reader's email, shown on the demo's mailbox: its words are theirs.
        values += [email.subject, *email.body_text.splitlines(), *(text for text, _ in links_in(email.body_html))]
    return values


def no_english(app: Flask, html: str, where: str) -> None:
    with app.app_context():
        data = user_data()
    left = english_left(visible_text(html), data)
    assert left == [], f"English on {where}: {left}"


text_of = visible_text


def urls(app: Flask, **refs: object) -> dict[str, str]:
    with app.test_request_context():
        return {name: url_for(endpoint, **values) for name, (endpoint, values) in refs.items()}


# --------------------------------------------------------------------------- #
# The buyer's pages
# --------------------------------------------------------------------------- #


def test_the_return_request_page_in_french(app: Flask, client_as) -> None:
    with app.app_context():
        order = db.session.scalar(sa.select(ShopOrder).where(ShopOrder.number == "MIR-1004"))
        placed, delivered = order.placed_at, order.shipments[0].delivered_at
        url = urls(app, page=("mirette_returns.order_requests", {"order_ref": order.id}))["page"]
    html = french_page(client_as(CAMILLE), url)
    text = text_of(html)

    assert "Demande de retour – commande MIR-1004" in text
    assert f"Commande MIR-1004, passée le {fr_day(placed)}" in text
    assert f"Livrée · {fr_day(delivered)}" in text
    assert "Demander un retour" in text
    assert "Politique de retour – Atelier Lune" in text
    assert "14 jours après la livraison" in text and "7 jours après la livraison" in text
    # Plurals: 4 mugs, 1 bowl.
    assert "4 achetés · 4 retournables maintenant" in text
    assert "1 acheté · 1 retournable maintenant" in text
    assert "Votre message" not in text  # nothing pending to cancel here
    no_english(app, html, "the Return Request page")


def test_the_request_form_and_its_errors_in_french_with_the_orders_currency(app: Flask, client_as) -> None:
    with app.app_context():
        order = db.session.scalar(sa.select(ShopOrder).where(ShopOrder.number == "MIR-1004"))
        order.currency = "CHF"
        mug = db.session.get(ShopOrderLine, int(line_ref("MIR-1004", "Speckled mug")))
        mug.unit_price = Decimal("1234.56")
        db.session.commit()
        refs = {"order_ref": order.id, "line_ref": mug.id}
        links = urls(app, form=("mirette_returns.return_form", refs), post=("mirette_returns.submit_return", refs))
    client = client_as(CAMILLE)

    html = french_page(client, links["form"])
    text = text_of(html)
    assert "Demander un retour : Speckled mug" in text
    assert "Vous pouvez retourner jusqu'à 4 articles de cette ligne." in text
    assert "Retour, pour être remboursé" in text and "Échange, contre un autre produit" in text
    assert "Une photo est obligatoire pour" in text and "Produit endommagé, Non conforme." in text
    assert "Envoyer la demande" in text
    # 4 × 1 234,56 CHF, in Swiss francs since the order is in Swiss francs.
    assert fr_money(Decimal("4938.24"), "CHF") in text
    assert "4 938,24" in spaces(text) and f"4{NARROW_NBSP}938,24{NBSP}CHF" in html
    no_english(app, html, "the request form")

    refused = client.post(links["post"], data={"quantity": "9", "kind": "return", "reason_code": "damaged",
                                               "comment": ""})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    text = text_of(html)
    assert "Vous pouvez retourner au plus 4 articles de cette ligne." in text
    assert "Joignez au moins une photo pour le motif « Produit endommagé »." in text
    no_english(app, html, "the request form with errors")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Request)) == 0


def make_requests(app: Flask) -> dict[str, int]:
    """Requests in the states the pages show: accepted, received, declined, a cancellation, refunded."""
    ids: dict[str, int] = {}
    with app.test_request_context():
        accepted = submit_line(comment="La couleur ne correspond pas à la photo.")
        take(LUNE, accepted.id, "accept", note="Renvoyez-le avec l'étiquette prépayée.")
        ids["accepted"] = accepted.id

        received = submit_line(product="Serving bowl")
        take(LUNE, received.id, "accept", note="Renvoyez-le.")
        take(LUNE, received.id, "receive", note="Bien reçu.")
        ids["received"] = received.id

        declined = submit_line(product="Blown glass vase")
        take(VERRE, declined.id, "decline", note="Le vase a été utilisé.")
        ids["declined"] = declined.id

        cancellation = submit_cancellation(message="J'ai commandé deux fois par erreur.")
        take(LUNE, cancellation.id, "refuse_order", note="")
        ids["cancellation"] = cancellation.id

        refunded = submit_line(order="MIR-2002", product="Speckled mug", buyer=ALEX)
        take(LUNE, refunded.id, "accept", note="Renvoyez-le.")
        take(LUNE, refunded.id, "receive", note="")
        take(LUNE, refunded.id, "initiate_refund")
        key = db.session.scalar(sa.select(Refund.idempotency_key).where(Refund.request_id == refunded.id))
        refunds.confirm_refund(key, "PSP-42")
        ids["refunded"] = refunded.id
        workflow.post_message(user(LUNE), accepted.id, "Merci, je regarde ça.")
        db.session.remove()
    return ids


def test_see_details_for_the_buyer_the_artist_and_support(app: Flask, client_as) -> None:
    ids = make_requests(app)
    with app.app_context():
        accepted = db.session.get(Request, ids["accepted"])
        created, total = accepted.created_at, accepted.refund_total
    links = urls(app, **{name: ("mirette_returns.request_detail", {"request_id": rid}) for name, rid in ids.items()})

    html = french_page(client_as(CAMILLE), links["accepted"])
    text = text_of(html)
    assert "Retour : Speckled mug" in text
    assert "Statut : Acceptée – instructions de retour transmises" in text
    assert "Instructions – Atelier Lune" in text and "Historique et messages" in text
    assert "a accepté la demande et donné les instructions de retour" in text
    assert f"Envoyée le {fr_moment(created)}" in text
    assert f"Total remboursé {fr_money(total)}" in text
    assert "J'ai renvoyé l'article" in text and "Annuler ma demande" in text
    assert "Écrire à Atelier Lune" in text
    no_english(app, html, "See details, for the buyer")

    html = french_page(client_as(LUNE), links["received"])
    text = text_of(html)
    assert "Statut : Produit reçu – remboursement possible" in text
    assert "Lancer le remboursement" in text and "Écrire à Camille Martin" in text
    assert "a confirmé la réception du produit en bon état" in text
    no_english(app, html, "See details, for the artist")

    support = in_french(client_as(SUPPORT))
    for name in ("accepted", "declined", "cancellation", "refunded"):
        html = french_page(support, links[name])
        no_english(app, html, f"See details of the {name} request, for support")
    text = text_of(french_page(support, links["cancellation"]))
    assert "Annulation de la commande MIR-1002" in text
    assert "Statut : Commande refusée – remboursement en cours" in text
    assert "Écrire dans cette conversation au nom du service client" in text
    with app.app_context():
        refund = db.session.scalar(sa.select(Refund).where(Refund.request_id == ids["refunded"]))
        paid_on, amount = refund.completed_at, refund.amount
    text = text_of(french_page(support, links["refunded"]))
    assert f"Remboursé : {fr_money(amount)}, le {fr_day(paid_on)}." in text
    assert "Statut : Remboursée" in text


def test_the_artist_inbox_and_the_support_list_in_french(app: Flask, client_as) -> None:
    ids = make_requests(app)
    links = urls(app, inbox=("mirette_returns.artist_inbox", {}), support=("mirette_returns.support_list", {}))
    with app.app_context():
        received = db.session.get(Request, ids["received"])
        last_activity = received.last_activity_at

    html = french_page(client_as(LUNE), links["inbox"])
    text = text_of(html)
    assert "Demandes sur mes articles" in text
    assert f"Retour #{ids['received']}" in text and "Produit reçu – remboursement possible" in text
    assert fr_moment(last_activity) in text
    assert "Tous les statuts" in text and "Tous les types" in text
    no_english(app, html, "the artist inbox")

    html = french_page(in_french(client_as(SUPPORT)), links["support"])
    text = text_of(html)
    assert "Toutes les demandes" in text and "Tout ou partie du nom de l'artiste." in text
    assert "Annulation #" in text and "Commande refusée – remboursement en cours" in text
    no_english(app, html, "the support list")


def test_error_pages_in_french(app: Flask, client_as) -> None:
    links = urls(app, order=("mirette_returns.order_requests", {"order_ref": "999999"}),
                 inbox=("mirette_returns.artist_inbox", {}), support=("mirette_returns.support_list", {}),
                 detail=("mirette_returns.request_detail", {"request_id": 999999}))
    camille = client_as(CAMILLE)

    text = text_of(french_page(camille, links["order"], 404))
    assert "Cette commande n'existe pas." in text
    assert "Le lien est peut-être ancien, ou il appartient à un autre compte." in text
    html = french_page(camille, links["inbox"], 403)
    assert "Cette page est réservée aux personnes qui vendent dans cette boutique." in text_of(html)
    no_english(app, html, "the artist inbox refused to a buyer")
    html = french_page(camille, links["support"], 403)
    assert "Cette page est réservée au service client de la boutique." in text_of(html)
    html = french_page(camille, links["detail"], 404)
    no_english(app, html, "an unknown request")
    # The demo's own error page.
    html = french_page(camille, "/orders/999999", 404)
    no_english(app, html, "the shop's 404 page")


# --------------------------------------------------------------------------- #
# Emails
# --------------------------------------------------------------------------- #


def test_every_email_in_french(app: Flask) -> None:
    # Support has no language of its own: the shop's default, French here.
    app.config["BABEL_DEFAULT_LOCALE"] = "fr"
    with app.test_request_context():
        returned = submit_line(comment="Un défaut dans l'émail.")
        workflow.post_message(user(LUNE), returned.id, "Pouvez-vous m'envoyer une photo ?")
        workflow.post_message(user(CAMILLE), returned.id, "La voici.")
        take(LUNE, returned.id, "accept", note="Renvoyez-le avec l'étiquette prépayée.")
        take(CAMILLE, returned.id, "ship_back", tracking="6A12345678901")
        take(LUNE, returned.id, "receive", note="Bien reçu, en bon état.")
        take(LUNE, returned.id, "initiate_refund")
        key = db.session.scalar(sa.select(Refund.idempotency_key).where(Refund.request_id == returned.id))
        refunds.confirm_refund(key, "PSP-7")

        replaced = submit_line("exchange")
        take(CAMILLE, replaced.id, "escalate", note="Je n'ai pas de réponse.")
        take(SUPPORT, replaced.id, "resolve_escalation", note="L'artiste a répondu.")
        take(LUNE, replaced.id, "accept", note="Renvoyez-le.")
        take(LUNE, replaced.id, "receive", note="")
        take(LUNE, replaced.id, "ship_replacement", tracking="6A99999999999")

        converted = submit_line("exchange", product="Serving bowl")
        take(LUNE, converted.id, "accept", note="Renvoyez-le.")
        take(LUNE, converted.id, "convert_to_refund", note="Cette taille n'est plus disponible.")

        declined = submit_line(product="Blown glass vase")
        take(VERRE, declined.id, "decline", note="Le vase a été utilisé.")

        withdrawn = submit_line()
        take(CAMILLE, withdrawn.id, "withdraw")

        failing = submit_line()
        take(LUNE, failing.id, "accept", note="Renvoyez-le.")
        take(LUNE, failing.id, "receive", note="")
        provider_down = AdapterError("Le prestataire de paiement ne répond pas.")
        with shop_refunds(FailingPaymentShop(provider_down)), pytest.raises(AdapterError):
            take(LUNE, failing.id, "initiate_refund")

        refused = submit_cancellation(message="J'ai commandé deux fois par erreur.")
        take(LUNE, refused.id, "refuse_order", note="")
        kept = submit_cancellation(order="MIR-1001", message="Finalement, je préfère annuler.")
        take(LUNE, kept.id, "decline", note="La commande est déjà partie.")

        emails = [WrittenEmail(row) for row in db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id))]
        actions = {entry.id: entry.action for entry in db.session.scalars(sa.select(HistoryEntry))}
        data = user_data()
        totals = {request.id: request.refund_total for request in db.session.scalars(sa.select(Request))}
        db.session.remove()

    def action_of(email: WrittenEmail) -> str:
        event = email.event_key.split(":", 1)[0]
        kind, number = event.split("-", 1)
        return "message" if kind == "message" else actions[int(number)]

    assert {email.locale for email in emails} == {"fr"}, "everyone here reads French"
    seen = {action_of(email) for email in emails}
    assert seen >= {"submit", "message", "accept", "ship_back", "receive", "initiate_refund", "confirm_refund",
                    "escalate", "resolve_escalation", "ship_replacement", "convert_to_refund", "decline",
                    "withdraw", "refund_failed", "refuse_order"}, seen
    for email in emails:
        where = f"the {action_of(email)} email to {email.recipient} ({email.subject})"
        text = spaces(email.body_text)
        assert text.startswith("Bonjour"), where
        assert "Voir le détail : http" in text, where
        assert '<html lang="fr">' in email.body_html, where
        assert "Vous recevez cet e-mail car vous participez à cette demande." in text, where
        left = english_left(f"{email.subject}\n{email.body_text}\n{visible_text(email.body_html)}", data)
        assert left == [], f"English in {where}: {left}"

    confirmed = [email for email in emails if action_of(email) == "confirm_refund"]
    assert len(confirmed) == 1
    amount = fr_money(totals[returned.id])
    assert f"Le remboursement de {amount} est confirmé." in spaces(confirmed[0].body_text)
    assert f"Remboursement : {amount}" in spaces(confirmed[0].body_text)
    assert NARROW_NBSP in confirmed[0].body_text or NBSP in confirmed[0].body_text
    received = [email for email in emails if action_of(email) == "receive" and email.recipient == CAMILLE]
    assert spaces(received[0].subject).endswith("Produit reçu – remboursement possible")
    new_request = [email for email in emails if action_of(email) == "submit" and email.request_id == refused.id]
    assert "vous demande d'annuler sa commande MIR-1002" in new_request[0].body_text
    assert "J'ai commandé deux fois par erreur." in new_request[0].body_text
    failed = [email for email in emails if action_of(email) == "refund_failed"]
    assert failed and failed[0].recipient == SUPPORT
    assert "n'a pas pu être lancé" in failed[0].body_text


# --------------------------------------------------------------------------- #
# Walking the demo in French
# --------------------------------------------------------------------------- #

#: Links not to follow: files, and the HTML bodies of emails (read through
#: their mailbox page).
SKIPPED_PREFIXES = ("/static/", "/returns/static/", "/returns/photos/")

MOST_PAGES_PER_PERSON = 70


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            self.hrefs.append(href)


def links_on(html: str) -> list[str]:
    finder = _LinkFinder()
    finder.feed(html)
    return finder.hrefs


def walk(client: FlaskClient, start: str) -> dict[str, str]:
    """Every page reachable by links from ``start``, on this site: ``{url: html}``."""
    seen: dict[str, str] = {}
    queue = deque([start])
    while queue and len(seen) < MOST_PAGES_PER_PERSON:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            queue.append(urlsplit(response.location).path or "/")
            seen[url] = ""
            continue
        # A link to what this person may not see (an email's "See details"
        # for someone else) leads to an error page: in French too.
        assert response.status_code in (200, 403, 404), (url, response.status_code)
        html = response.get_data(as_text=True)
        seen[url] = html
        if not response.content_type.startswith("text/html"):
            continue
        for href in links_on(html):
            parts = urlsplit(href)
            if parts.scheme and parts.netloc not in ("", "shop.test"):
                continue
            if parts.scheme not in ("", "http", "https") or href.startswith("#"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if not parts.path.startswith("/") or parts.path.startswith(SKIPPED_PREFIXES):
                continue
            if target not in seen:
                queue.append(target)
    return seen


def test_no_english_left_on_the_demos_pages_in_french(app: Flask, client_as) -> None:
    make_requests(app)
    people = [None, CAMILLE, ALEX, LUNE, BOIS, VERRE, SUPPORT]
    with app.app_context():
        data = user_data()
        french_mail = {email.id for email in db.session.scalars(
            sa.select(OutboxEmail).where(OutboxEmail.locale.startswith("fr")))}
    walked = 0
    for person in people:
        client = in_french(client_as(person))
        for url, html in walk(client, "/").items():
            if not html or not html.lstrip().lower().startswith(("<!doctype", "<html")):
                continue
            parts = urlsplit(url).path.strip("/").split("/")
            if parts[:1] == ["mailbox"] and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) not in french_mail:
                continue  # an English reader's email, as sent
            walked += 1
            assert '<html lang="fr"' in html, (person, url)
            left = english_left(visible_text(html), data)
            assert left == [], f"English on {url} as {person or 'a visitor'}: {left}"
    # The shop's pages, the plugin's pages of each role, the mailbox and the payments.
    assert walked > 60


def test_the_walk_finds_english_where_there_is_some(app: Flask, client_as) -> None:
    # The check above can fail: the same page in English is full of it.
    client = client_as(CAMILLE)
    client.post("/language", data={"locale": "en", "next": "/"})
    html = client.get("/").get_data(as_text=True)
    with app.app_context():
        left = english_left(visible_text(html), user_data())
    assert "Handmade by independent artists" in left and "Switch account" in left
    assert "This order does not exist" in english_left("Oops. This order does not exist.", [])
    assert english_left("Bonjour, the end", []) != []
