"""What people type: a text of invisible characters is a blank one, and
bidirectional controls never reorder what the other party reads, on the
pages or in the emails (the rules alone: ``tests/unit/test_user_text.py``)."""

from __future__ import annotations

import sqlalchemy as sa

from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.mail_message import WrittenEmail
from mirette_returns_plugin.models import Message, OutboxEmail, Request
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    parse,
    submit,
)
from tests.shop import CAMILLE, LUNE, artist_ref, line_ref, order_ref

#: Zero-width space, joiners, word joiner, byte order mark, a Hangul filler, a tab, a newline.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u3164\t\n\u200b"
RLO, PDF, RLI, PDI = "\u202e", "\u202c", "\u2067", "\u2069"
SPOOF = f"Invoice {RLO}gpj.exe"


def refs(app, number, product=None):
    with app.app_context():
        return order_ref(number), (line_ref(number, product) if product else None), artist_ref(LUNE)


def stored(app, model, **where) -> list:
    with app.app_context():
        return list(db.session.scalars(sa.select(model).filter_by(**where).order_by(model.id)))


def emails_to(app, address: str) -> list[OutboxEmail]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxEmail).filter_by(recipient=address).order_by(OutboxEmail.id))
        return [WrittenEmail(row) for row in rows]


def a_return(app, client) -> int:
    order, line, _artist = refs(app, "MIR-1004", "Speckled mug")
    form = parse(client.get(f"/returns/orders/{order}/lines/{line}/return")).find("form", class_="mr-return-form")
    response = submit(client, form, files=[], quantity="1", reason_code="changed_mind", comment=INVISIBLE)
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_invisible_message_is_refused_like_a_blank_one(app, client_as):
    camille = client_as(CAMILLE)
    request_id = a_return(app, camille)
    [created] = stored(app, Request)
    assert created.comment is None, "a comment of invisible characters is no comment"
    before = len(emails_to(app, "lune@artists.example"))
    page = parse(camille.get(f"/returns/requests/{request_id}"))
    for headers in (HTMX, {}):
        response = submit(camille, page.by_id("mr-reply"), headers=headers, files=[], body=INVISIBLE)
        assert response.status_code == 422
        assert "Write a message or attach a photo." in parse(response).by_id("mr-reply-body-error").text
    assert stored(app, Message, request_id=request_id) == []
    assert len(emails_to(app, "lune@artists.example")) == before

    # A required field of a step (the artist's reason to decline) too.
    lune = client_as(LUNE)
    decline = parse(lune.get(f"/returns/requests/{request_id}")).by_id("mr-action-decline")
    response = submit(lune, decline, note=INVISIBLE, confirm="1")
    assert response.status_code == 422
    assert "This field is required." in parse(response).text
    assert stored(app, Request)[0].status == "requested"


def test_invisible_cancellation_message_is_refused(app, client_as):
    order, _line, lune = refs(app, "MIR-1001")
    camille = client_as(CAMILLE)
    form = parse(camille.get(f"/returns/orders/{order}")).by_id(f"mr-cancel-form-{lune}")
    response = submit(camille, form, headers=HTMX, message=INVISIBLE)
    assert response.status_code == 422
    assert "Say why you would like to cancel." in parse(response).by_id(f"mr-cancel-form-{lune}").text
    assert stored(app, Request) == []


def test_bidi_overrides_do_not_reverse_what_the_other_party_reads(app, client_as):
    camille, lune = client_as(CAMILLE), client_as(LUNE)
    request_id = a_return(app, camille)
    page = parse(camille.get(f"/returns/requests/{request_id}"))
    assert submit(camille, page.by_id("mr-reply"), files=[], body=SPOOF).status_code == 303
    [message] = stored(app, Message, request_id=request_id)
    assert message.body == SPOOF, "the message is kept as typed"

    seen = parse(lune.get(f"/returns/requests/{request_id}"))
    [shown] = [p for p in seen.find_all("p", class_="mr-text") if "Invoice" in p.text]
    assert shown.text == "Invoice gpj.exe"
    assert shown.get("dir") == "auto"

    email = emails_to(app, "lune@artists.example")[-1]
    for part in (email.body_text, email.body_html):
        assert "Invoice gpj.exe" in part and RLO not in part
    assert 'dir="auto"' in email.body_html


def test_an_artist_s_decline_reason_is_neutralised_too(app, client_as):
    camille, lune = client_as(CAMILLE), client_as(LUNE)
    request_id = a_return(app, camille)
    decline = parse(lune.get(f"/returns/requests/{request_id}")).by_id("mr-action-decline")
    assert submit(lune, decline, note=f"Not ours: see {RLO}fdp.exe", confirm="1").status_code == 303
    box = parse(camille.get(f"/returns/requests/{request_id}")).find(class_="mr-declined")
    shown = box.find("p", class_="mr-text")
    assert shown.text == "Not ours: see fdp.exe" and shown.get("dir") == "auto"
    email = emails_to(app, CAMILLE)[-1]
    assert "Not ours: see fdp.exe" in email.body_text and RLO not in email.body_html
