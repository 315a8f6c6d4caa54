"""Emails are written when they are sent, from the facts their outbox row keeps.

A change stores the facts of its emails (the step, the request's values, the
message as written, the reader), not their words; the worker writes each one
in its reader's language when it sends it. So a template or a translation
fixed while an email waits reaches it, an email that cannot be written waits
with the reason while the others leave, and rows queued by an older version
(their email already written) are still sent.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader

from mirette_returns_plugin import delivery, workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.i18n import forget_loaded_catalogues
from mirette_returns_plugin.models import OutboxEmail, OutboxState, Request, utcnow
from mirette_returns_plugin.workflow import ReturnForm
from tests.i18nkit import spaces
from tests.shop import CAMILLE, LUNE, line_ref, order_ref, user

pytestmark = pytest.mark.usefixtures("mail_app", "ctx")

COMMENT = "The handle came off when I unpacked it."

_VERSIONS = itertools.count(1)


def submit(comment: str = COMMENT) -> Request:
    return workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), ReturnForm(
        line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="changed_mind",
        comment=comment))


def rows() -> list[OutboxEmail]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)))


def shop_templates(app: Flask, folder: Path) -> None:
    """The shop overrides the plugin's email templates from ``folder``, and its
    worker reads a template again when the file changes."""
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(folder)), app.jinja_loader])  # type: ignore[method-assign]
    app.jinja_env.auto_reload = True


def write_template(folder: Path, name: str, text: str) -> None:
    path = folder / "mirette_returns" / "email" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    # Another time than any earlier version of the file, however fast the test.
    moment = time.time() + next(_VERSIONS)
    os.utime(path, (moment, moment))


def test_a_change_stores_the_facts_not_the_words():
    request = submit()
    [row] = rows()
    assert (row.subject, row.body_text, row.body_html) == (None, None, None)
    assert row.recipient == LUNE and row.locale == "en"
    facts = row.facts
    assert facts["entry"]["action"] == "submit"
    assert facts["recipient"] == {"role": "artist", "name": "Atelier Lune"}
    assert facts["request"]["id"] == request.id and facts["request"]["order_number"] == "MIR-1004"
    assert facts["request"]["comment"] == COMMENT
    assert "Hello" not in json.dumps(facts), "no word of the email is stored"


def test_the_email_quotes_the_request_as_it_was_when_queued(smtp):
    request = submit()
    db.session.execute(sa.update(Request).where(Request.id == request.id).values(comment="Edited later."))
    db.session.commit()
    assert delivery.deliver().sent == 1
    [email] = smtp.to(LUNE)
    assert COMMENT in email.text and "Edited later." not in email.text


def test_a_template_fixed_while_an_email_waits_reaches_it(app: Flask, smtp, tmp_path: Path):
    submit()
    write_template(tmp_path, "new_request.txt", "Fixed wording: {{ email.headline }}\n{{ email.details_url }}\n")
    shop_templates(app, tmp_path)
    assert delivery.deliver().sent == 1
    [email] = smtp.to(LUNE)
    assert email.text.startswith("Fixed wording: Camille Martin would like to return 1 × Speckled mug")


@pytest.mark.seeded_languages
def test_a_translation_fixed_while_an_email_waits_reaches_it(app: Flask, smtp, tmp_path: Path):
    request = submit()
    workflow.perform(user(LUNE), request.id, "accept", note="Renvoyez-la avec l'étiquette.")
    folder = tmp_path / "shop_translations"
    catalog = Catalog(locale="fr", domain="mirette_returns")
    catalog.add("Hello %(name)s,", "Chère cliente, cher client %(name)s,")
    (folder / "fr" / "LC_MESSAGES").mkdir(parents=True)
    with (folder / "fr" / "LC_MESSAGES" / "mirette_returns.po").open("wb") as handle:
        write_po(handle, catalog)
    app.config["MIRETTE_RETURNS_TRANSLATIONS_DIRS"] = [str(folder)]
    forget_loaded_catalogues(app)  # as a worker started after the change does

    with app.app_context():  # a worker: no web request, nobody signed in
        assert delivery.deliver().sent == 2
    [to_camille] = smtp.to(CAMILLE)
    assert "Chère cliente, cher client Camille Martin," in to_camille.text
    assert "Statut : Acceptée – instructions de retour transmises" in spaces(to_camille.text)


@pytest.mark.seeded_languages
def test_each_email_is_written_in_its_readers_language_at_delivery(app: Flask, smtp):
    request = submit()
    workflow.perform(user(LUNE), request.id, "accept", note="Renvoyez-la avec l'étiquette.")
    with app.test_request_context(headers={"Accept-Language": "en"}):  # a worker inside an English page
        assert delivery.deliver().sent == 2
    [to_camille], [to_lune] = smtp.to(CAMILLE), smtp.to(LUNE)
    assert "Bonjour Camille Martin," in to_camille.text and "Hello" not in to_camille.text
    assert '<html lang="fr">' in to_camille.html
    assert "Bonjour Atelier Lune," in to_lune.text  # Atelier Lune reads French too, here


def test_an_email_that_cannot_be_written_waits_with_the_reason_and_the_others_leave(app: Flask, smtp,
                                                                                     tmp_path: Path):
    request = submit()
    workflow.perform(user(LUNE), request.id, "accept", note="Send it back in its box.")
    write_template(tmp_path, "update.txt", "{{ email.headline }} {% for x in email.no_such_list() %}{% endfor %}\n")
    shop_templates(app, tmp_path)

    report = delivery.deliver()
    assert (report.sent, report.retrying, report.failed) == (1, 1, 0)
    assert [m.envelope_to for m in smtp.arrived] == [(LUNE,)], "the new request's email left"
    broken = next(row for row in rows() if row.recipient == CAMILLE)
    assert broken.state == OutboxState.PENDING and broken.attempts == 1
    assert "could not be written" in broken.last_error and "no_such_list" in broken.last_error
    assert broken.facts is not None, "nothing of it is lost"

    write_template(tmp_path, "update.txt", "Repaired: {{ email.headline }}\n")
    assert delivery.deliver(now=utcnow() + timedelta(hours=1)).sent == 1
    [email] = smtp.to(CAMILLE)
    assert email.text.startswith("Repaired: Atelier Lune accepted the request")
    assert email.message_id == broken.message_id


def test_an_email_queued_by_an_older_version_is_sent_as_written(smtp):
    db.session.add(OutboxEmail(
        event_key="history-1:buyer", recipient=CAMILLE, locale="en",
        subject="[Mirette] Order MIR-1004 – Speckled mug: Accepted", body_text="Written before the facts.\n",
        body_html="<p>Written before the facts.</p>",
        message_id="<mirette-returns.history-1.buyer.abc@mirette.example>",
        thread_id="<mirette-returns-request-1@mirette.example>"))
    db.session.commit()
    assert delivery.deliver().sent == 1
    [email] = smtp.to(CAMILLE)
    assert email.subject == "[Mirette] Order MIR-1004 – Speckled mug: Accepted"
    assert email.text.strip() == "Written before the facts."
    assert "<p>Written before the facts.</p>" in email.html
    assert email.message_id == "<mirette-returns.history-1.buyer.abc@mirette.example>"
    assert rows()[0].state == OutboxState.SENT


def test_an_email_about_a_step_no_longer_in_the_table_is_still_written(smtp):
    request = submit()
    workflow.perform(user(LUNE), request.id, "accept", note="Send it back in its box.")
    waiting = next(row for row in rows() if row.recipient == CAMILLE)
    # Queued by a version whose table had a step this one no longer has.
    facts = dict(waiting.facts, entry=dict(waiting.facts["entry"], action="a-step-since-removed"))
    db.session.execute(sa.update(OutboxEmail).where(OutboxEmail.id == waiting.id).values(facts=facts))
    db.session.commit()

    assert delivery.deliver().sent == 2
    [email] = smtp.to(CAMILLE)
    assert "Send it back in its box." in email.text
