"""Every flow of the help page, walked through the pages by each role.

Each step is taken the way a person takes it: open the page, find the form,
fill it in, submit. Each test checks what the pages show and what the
database holds.
"""

from __future__ import annotations

import sqlalchemy as sa

from mirette_returns_plugin import confirm_refund
from mirette_returns_plugin.demo.models import PaymentRefund, Shipment, db
from mirette_returns_plugin.models import Message, Photo, Refund, Request
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    jpeg_with_metadata,
    parse,
    submit,
    text_of,
)
from tests.shop import BOIS, CAMILLE, LUNE, SUPPORT, VERRE, account, artist_ref, line_ref, order_ref, set_stage


def refs(app, number, product=None):
    with app.app_context():
        return order_ref(number), (line_ref(number, product) if product else None)


def rows(app) -> list[Request]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Request).order_by(Request.id)))


def fresh(app, request_id: int) -> Request:
    with app.app_context():
        return db.session.get(Request, request_id)


def details(client, request_id: int, headers=None):
    return parse(client.get(f"/returns/requests/{request_id}", headers=headers or {}))


def act(client, request_id: int, action: str, *, headers=None, **fields):
    """Take ``action`` with its form on the details page (it must be offered)."""
    page = details(client, request_id)
    form = page.by_id(f"mr-action-{action}")
    assert form is not None, f"{action} not offered: {page.by_id('mr-actions').text}"
    if form.find("input", name="confirm") is not None:
        fields.setdefault("confirm", "1")
    response = submit(client, form, headers=headers, **fields)
    assert response.status_code in (200, 303), (action, response.status_code, text_of(response)[:400])
    return response


def offered(client, request_id: int) -> list[str]:
    return [form.get("id").removeprefix("mr-action-")
            for form in details(client, request_id).by_id("mr-actions").find_all("form")]


def return_request(app, client, number, product, **fields) -> int:
    order, line = refs(app, number, product)
    form = parse(client.get(f"/returns/orders/{order}/lines/{line}/return")).find("form", class_="mr-return-form")
    files = fields.pop("files", [])
    response = submit(client, form, files=files, **fields)
    assert response.status_code == 303, text_of(response)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_cancel_before_processing_single_artist(app, client_as):
    order, _ = refs(app, "MIR-1001")
    camille, lune = client_as(CAMILLE), client_as(LUNE)
    page = parse(camille.get(f"/returns/orders/{order}"))
    with app.app_context():
        lune_ref = artist_ref(LUNE)
    form = page.by_id(f"mr-cancel-form-{lune_ref}")
    assert "Order number MIR-1001 is attached" in form.text
    assert form.find("input", name="contact_email").get("value") == "camille@buyers.example"
    assert page.by_id("mr-cancel-all") is None  # only one artist
    response = submit(camille, form, message="I ordered twice by mistake.", contact_email="cam@example.org")
    assert response.status_code == 303
    [cancel] = rows(app)
    assert (cancel.kind, cancel.status, cancel.order_number, cancel.contact_email) == (
        "cancellation", "requested", "MIR-1001", "cam@example.org")
    after = parse(camille.get(response.headers["Location"]))
    assert "Your cancellation request was sent to Atelier Lune" in after.text
    assert after.by_id(f"mr-cancel-form-{lune_ref}") is None
    assert "Requested" in after.by_id(f"mr-cancel-{lune_ref}").text

    inbox = parse(lune.get("/returns/artist/inbox"))
    row = inbox.by_id(f"mr-row-{cancel.id}")
    assert "New" in row.text and "MIR-1001" in row.text
    page = details(lune, cancel.id)
    assert "I ordered twice by mistake." in page.by_id("mr-timeline").text
    assert "Speckled mug" in page.text  # the items of the part to refuse
    steps = offered(lune, cancel.id)
    assert {"refuse_order", "decline"} <= set(steps) and "withdraw" not in steps
    act(lune, cancel.id, "refuse_order", note="Cancelled, nothing was shipped.")
    refused = fresh(app, cancel.id)
    assert refused.status == "order_refused"
    with app.app_context():
        assert db.session.scalar(sa.select(Shipment.state).where(Shipment.order_id == int(order))) == "cancelled"
        refund = db.session.scalar(sa.select(Refund).where(Refund.request_id == cancel.id))
        assert refund.state == "initiated" and refund.amount == refused.refund_total
    seen = details(camille, cancel.id)
    assert "Order refused - refund initiated" in seen.by_id("mr-summary").text
    assert "initiated" in seen.by_id("mr-refund").text
    # Support confirms the payment by hand: the request is refunded.
    act(client_as(SUPPORT), cancel.id, "confirm_refund")
    assert fresh(app, cancel.id).status == "refunded"
    assert "Refunded" in details(camille, cancel.id).by_id("mr-refund").text


def test_cancel_every_artist_of_a_multi_artist_order(app, client_as):
    order, _ = refs(app, "MIR-1002")
    camille = client_as(CAMILLE)
    with app.app_context():
        lune_ref, bois_ref, verre_ref = artist_ref(LUNE), artist_ref(BOIS), artist_ref(VERRE)
    page = parse(camille.get(f"/returns/orders/{order}"))
    assert page.by_id(f"mr-cancel-form-{lune_ref}") is not None
    assert page.by_id(f"mr-cancel-form-{bois_ref}") is not None
    assert page.by_id(f"mr-cancel-form-{verre_ref}") is None
    assert "You can request a return instead" in page.by_id(f"mr-cancel-{verre_ref}").text
    everyone = page.by_id("mr-cancel-all")
    assert "Atelier Lune, Bois & Fil" in everyone.text
    response = submit(camille, everyone, headers=HTMX, message="Please cancel everything you can.")
    assert response.status_code == 200
    parts = parse(response).one("div", id="mr-parts")
    assert "Your cancellation requests were sent to Atelier Lune, Bois & Fil" in parts.text
    assert parts.find("form", class_="mr-cancel-form") is None
    cancellations = rows(app)
    assert sorted(r.artist_ref for r in cancellations) == sorted([lune_ref, bois_ref])
    with app.app_context():
        threads = {m.request_id for m in db.session.scalars(sa.select(Message))}
    assert threads == {r.id for r in cancellations}

    bois_request = next(r for r in cancellations if r.artist_ref == bois_ref)
    act(client_as(BOIS), bois_request.id, "decline", note="It left the workshop this morning.")
    assert fresh(app, bois_request.id).status == "declined"
    seen = details(camille, bois_request.id)
    assert "It left the workshop this morning." in seen.by_id("mr-summary").text
    assert "request a return" in seen.by_id("mr-summary").text


def test_return_with_photo_to_refund(app, client_as):
    camille, lune = client_as(CAMILLE), client_as(LUNE)
    request_id = return_request(app, camille, "MIR-1004", "Speckled mug", quantity="1", reason_code="damaged",
                                files=[(jpeg_with_metadata(), "crack.jpg")])
    page = details(lune, request_id)
    assert "Damaged product" in page.text
    assert page.find("section", class_="mr-photo-section").find("img") is not None
    steps = offered(lune, request_id)
    assert {"accept", "decline"} <= set(steps) and "receive" not in steps and "withdraw" not in steps
    # Accepting needs the instructions.
    response = submit(lune, details(lune, request_id).by_id("mr-action-accept"), note="")
    assert response.status_code == 422
    assert "required" in parse(response).by_id("mr-action-accept-note-error").text
    act(lune, request_id, "accept", note="Use the prepaid label in your email.")
    seen = details(camille, request_id)
    assert "Use the prepaid label in your email." in seen.by_id("mr-summary").text
    steps = offered(camille, request_id)
    assert {"withdraw", "ship_back"} <= set(steps) and "receive" not in steps and "accept" not in steps
    act(camille, request_id, "ship_back", tracking="LP123456FR")
    assert fresh(app, request_id).return_tracking == "LP123456FR"
    act(lune, request_id, "receive")
    assert "Product received - reimbursement can be initiated" in details(camille, request_id).text
    act(lune, request_id, "initiate_refund")
    done = fresh(app, request_id)
    assert done.status == "refund_initiated"
    with app.app_context():
        refund = db.session.scalar(sa.select(Refund).where(Refund.request_id == request_id))
        payment = db.session.scalar(sa.select(PaymentRefund).where(
            PaymentRefund.idempotency_key == refund.idempotency_key))
        assert payment.amount == done.refund_total
    with app.test_request_context():
        confirm_refund(refund.idempotency_key, "bank-42")
    final = details(camille, request_id)
    assert "Refunded" in final.by_id("mr-summary").text
    history = final.by_id("mr-timeline").text
    for words in ("sent the request", "accepted the request", "sent the item back",
                  "confirmed the product was received", "initiated the refund", "confirmed the refund was paid"):
        assert words in history


def test_exchange_shipped_directly(app, client_as):
    camille, lune = client_as(CAMILLE), client_as(LUNE)
    order, mug = refs(app, "MIR-1004", "Speckled mug")
    request_id = return_request(app, camille, "MIR-1004", "Speckled mug", quantity="2", kind="exchange",
                                reason_code="wrong_size", wanted_ref=_option(app, camille, order, mug, "Moss"))
    assert fresh(app, request_id).wanted_label == "Speckled mug – Moss"
    assert "2 returnable now" in parse(camille.get(f"/returns/orders/{order}")).by_id(f"mr-line-{mug}").text
    act(lune, request_id, "accept", note="Send them back, I will post the moss ones.")
    act(lune, request_id, "receive")
    assert "convert_to_refund" in offered(lune, request_id)
    act(lune, request_id, "ship_replacement", tracking="COL-99")
    done = fresh(app, request_id)
    assert (done.status, done.replacement_tracking) == ("replacement_shipped", "COL-99")
    seen = details(camille, request_id)
    assert "Replacement shipped" in seen.by_id("mr-summary").text and "COL-99" in seen.text
    # The replacement may in turn be returned: the quantity is free again.
    assert "4 returnable now" in parse(camille.get(f"/returns/orders/{order}")).by_id(f"mr-line-{mug}").text


def test_exchange_converted_to_refund(app, client_as):
    camille, lune = client_as(CAMILLE), client_as(LUNE)
    order, bowl = refs(app, "MIR-1004", "Serving bowl")
    request_id = return_request(app, camille, "MIR-1004", "Serving bowl", quantity="1", kind="exchange",
                                reason_code="other", wanted_ref=_option(app, camille, order, bowl, "Large"))
    act(lune, request_id, "accept", note="The large one costs more: I will refund you instead.")
    act(lune, request_id, "convert_to_refund", note="Please reorder the large bowl.")
    converted = fresh(app, request_id)
    assert converted.kind == "return" and converted.converted_from_exchange
    page = details(camille, request_id)
    assert "was an exchange" in page.text
    act(lune, request_id, "receive")
    act(lune, request_id, "initiate_refund")
    assert fresh(app, request_id).status == "refund_initiated"
    with app.app_context():
        assert db.session.scalar(sa.select(Refund.amount).where(Refund.request_id == request_id)) == \
            converted.refund_total


def test_withdraw(app, client_as):
    camille = client_as(CAMILLE)
    order, mug = refs(app, "MIR-1004", "Speckled mug")
    request_id = return_request(app, camille, "MIR-1004", "Speckled mug", quantity="3", reason_code="changed_mind")
    form = details(camille, request_id).by_id("mr-action-withdraw")
    assert form.find("input", name="confirm").has("required")
    # Without ticking the box nothing happens.
    response = submit(camille, form)
    assert response.status_code == 422
    assert "Tick the box" in parse(response).by_id("mr-action-withdraw-confirm-error").text
    assert fresh(app, request_id).status == "requested"
    act(camille, request_id, "withdraw", headers=HTMX)
    assert fresh(app, request_id).status == "withdrawn"
    page = details(camille, request_id)
    assert "Withdrawn" in page.by_id("mr-summary").text
    assert page.by_id("mr-action-withdraw") is None
    assert "4 returnable now" in parse(camille.get(f"/returns/orders/{order}")).by_id(f"mr-line-{mug}").text


def test_decline(app, client_as):
    camille, verre = client_as(CAMILLE), client_as(VERRE)
    request_id = return_request(app, camille, "MIR-1004", "Blown glass vase", quantity="1",
                                reason_code="changed_mind", comment="Too big for my shelf.")
    assert "Too big for my shelf." in details(verre, request_id).by_id("mr-timeline").text
    act(verre, request_id, "decline", note="Hand-made to order: no returns for a change of mind.")
    declined = fresh(app, request_id)
    assert declined.status == "declined"
    assert declined.decline_reason == "Hand-made to order: no returns for a change of mind."
    page = details(camille, request_id)
    assert "Hand-made to order" in page.by_id("mr-summary").text
    assert page.by_id("mr-actions").find("form") is None


def test_support_steps_in(app, client_as):
    camille, support = client_as(CAMILLE), client_as(SUPPORT)
    request_id = return_request(app, camille, "MIR-1004", "Speckled mug", quantity="1", reason_code="other")
    act(camille, request_id, "escalate", note="No answer for a week.")
    assert fresh(app, request_id).escalated
    listing = parse(support.get("/returns/support/requests?escalated=1"))
    assert listing.by_id(f"mr-row-{request_id}") is not None
    page = details(support, request_id)
    assert "Support team asked to step in" in page.by_id("mr-summary").text
    response = submit(support, page.by_id("mr-reply"), body="Hello, I am looking into it.", files=[])
    assert response.status_code == 303
    with app.app_context():
        message = db.session.scalar(sa.select(Message).where(Message.request_id == request_id))
        assert (message.author_role, message.author_name) == ("support", account(SUPPORT).name)
    assert "(Support team)" in details(camille, request_id).by_id("mr-timeline").text
    assert "accept" in offered(support, request_id)
    act(support, request_id, "resolve_escalation", note="The artist answered.")
    assert not fresh(app, request_id).escalated


def _option(app, client, order, line, label_part) -> str:
    form = parse(client.get(f"/returns/orders/{order}/lines/{line}/return", headers=HTMX)).one("form")
    option = next(o for o in form.find("select", name="wanted_ref").find_all("option") if label_part in o.text)
    return option.get("value")


def test_photos_are_only_in_the_database_once_per_upload(app, client_as):
    camille = client_as(CAMILLE)
    request_id = return_request(app, camille, "MIR-1004", "Speckled mug", quantity="1", reason_code="damaged",
                                files=[(jpeg_with_metadata(), "a.jpg"), (jpeg_with_metadata(), "b.jpg")])
    with app.app_context():
        photos = db.session.scalars(sa.select(Photo).where(Photo.request_id == request_id)).all()
        assert len(photos) == 2 and all(p.message_id is None for p in photos)


def test_a_refused_cancellation_is_shown_at_its_part(app, client_as):
    """A second request for the same artist (409) and a part processed
    meanwhile (403) answer with their reason where the form was, with htmx
    and without JavaScript."""
    order, _ = refs(app, "MIR-1002")
    with app.app_context():
        lune_ref, bois_ref = artist_ref(LUNE), artist_ref(BOIS)
    camille = client_as(CAMILLE)
    page = parse(camille.get(f"/returns/orders/{order}"))
    lune_form, bois_form = page.by_id(f"mr-cancel-form-{lune_ref}"), page.by_id(f"mr-cancel-form-{bois_ref}")
    assert lune_form.get("action").endswith(f"#mr-cancel-{lune_ref}"), "without JavaScript the answer opens there"
    assert submit(camille, lune_form, message="Please cancel.").status_code == 303

    for attempt, headers in enumerate((HTMX, {})):
        # The same page, still open in another tab: a new form, a new token.
        again = submit(camille, lune_form, headers=headers, message="Please cancel.",
                       submission_token=f"secondtab{attempt}")
        assert again.status_code == 409
        alert = parse(again).by_id(f"mr-cancel-{lune_ref}").find(class_="mr-alert-error")
        assert alert is not None and alert.get("role") == "alert"
        assert alert.text == "You have already asked for this part of the order to be cancelled."
    assert [r.artist_ref for r in rows(app)] == [lune_ref]

    with app.app_context():
        set_stage("MIR-1002", BOIS, "accepted")
    for headers in (HTMX, {}):
        refused = submit(camille, bois_form, headers=headers, message="Please cancel.")
        assert refused.status_code == 403
        part = parse(refused).by_id(f"mr-cancel-{bois_ref}")
        alert = part.find(class_="mr-alert-error")
        assert alert is not None and "has already been processed" in alert.text
        assert part.text.count("has already been processed") == 1, "said once"
    assert [r.artist_ref for r in rows(app)] == [lune_ref]
