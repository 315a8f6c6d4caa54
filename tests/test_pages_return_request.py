"""The buyer's "Return Request" page and its return form, with and without htmx."""

from __future__ import annotations

import io
import os

import sqlalchemy as sa

from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Photo, Request
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    form_values,
    jpeg_with_metadata,
    parse,
    plain_jpeg,
    submit,
    text_of,
)
from tests.shop import CAMILLE, LUNE, VERRE, artist_ref, line_ref, order_ref, set_stage


def refs(app, number="MIR-1004", product="Speckled mug"):
    with app.app_context():
        return order_ref(number), line_ref(number, product)


def requests_in_db(app) -> list[Request]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Request).order_by(Request.id)))


def test_page_groups_lines_by_artist_with_stage_policy_and_quantities(app, client_as):
    order, mug = refs(app)
    with app.app_context():
        vase = line_ref("MIR-1004", "Blown glass vase")
        lune, verre = artist_ref(LUNE), artist_ref(VERRE)
    page = parse(client_as(CAMILLE).get(f"/returns/orders/{order}"))

    lune_part = page.by_id(f"mr-part-{lune}")
    assert lune_part.find("h2").text == "Atelier Lune"
    assert lune_part.find("h2").find("a").get("href") == f"/artists/{lune}"
    assert "Delivered" in lune_part.find(class_="mr-stage").text
    policy = lune_part.find(class_="mr-policy").text
    assert "14 days after delivery" in policy and "Refunded with the items" in policy
    assert "Paid by the seller" in policy
    mug_line = lune_part.by_id(f"mr-line-{mug}")
    assert "Speckled mug" in mug_line.text and "Night blue" in mug_line.text
    assert "4 bought" in mug_line.text and "4 returnable now" in mug_line.text
    request_link = mug_line.find("a", class_="mr-button")
    assert request_link.text == "Request return"
    assert request_link.get("hx-get") == request_link.get("href") == f"/returns/orders/{order}/lines/{mug}/return"

    verre_part = page.by_id(f"mr-part-{verre}")
    assert "Blown glass vase" in verre_part.by_id(f"mr-line-{vase}").text
    assert "Paid by the buyer" in verre_part.find(class_="mr-policy").text
    # Delivered parts cannot be cancelled any more: a return is the way.
    assert "You can request a return instead" in lune_part.find(class_="mr-cancel").text
    assert page.find("form", class_="mr-cancel-form") is None


def test_expired_window_and_pending_part_say_why_no_return(app, client_as):
    expired, _line = refs(app, "MIR-1005", "Tumbler set")
    pending, _mug = refs(app, "MIR-1001")
    client = client_as(CAMILLE)
    text = text_of(client.get(f"/returns/orders/{expired}"))
    assert "The return period of 7 days ended" in text
    assert "Request return" not in text
    text = text_of(client.get(f"/returns/orders/{pending}"))
    assert "you can still ask to cancel it" in text
    assert "Request return" not in text


def test_form_opens_in_place_for_htmx_and_as_a_page_without(app, client_as):
    order, mug = refs(app)
    client = client_as(CAMILLE)
    fragment = client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "<title" not in html
    form = parse(fragment).one("form")
    assert form.get("hx-post") == form.get("action") == f"/returns/orders/{order}/lines/{mug}/return"
    assert form.get("method") == "post" and form.get("hx-sync") == "this:drop"
    quantity = form.find("input", name="quantity")
    assert quantity.get("max") == "4" and quantity.get("value") == "4"
    assert [o.get("value") for o in form.find("select", name="reason_code").find_all("option")][1:4] == [
        "wrong_product", "damaged", "non_compliant"]
    assert form.find("option", value="damaged").has("data-photo-required")
    # The policy and the refund for the largest quantity are shown before submitting.
    assert "14 days after delivery" in form.find(class_="mr-policy").text
    preview = form.by_id(f"mr-return-{mug}-preview").text
    assert "€96.00" in preview and "Total refund" in preview
    assert form.find("button", type="submit").text == "Submit a request"
    # Exchange options come from the adapter (the other colours).
    wanted = [o.text for o in form.find("select", name="wanted_ref").find_all("option")]
    assert "Speckled mug – Sand" in wanted[1] and "Speckled mug – Moss" in wanted[2]

    page = client.get(f"/returns/orders/{order}/lines/{mug}/return")
    assert "<html" in page.get_data(as_text=True)
    whole = parse(page)
    assert whole.by_id(f"mr-line-{mug}-form").find("form") is not None
    assert whole.find("title").text.startswith("Return Request")


def test_preview_follows_the_quantity(app, client_as):
    order, mug = refs(app)
    client = client_as(CAMILLE)
    fragment = client.get(f"/returns/orders/{order}/lines/{mug}/preview?quantity=1", headers=HTMX)
    section = parse(fragment).one("section")
    assert section.get("id") == f"mr-return-{mug}-preview"
    # One mug of 24 €, and a fifth of the 6.90 € delivery (5 units in the part).
    assert "€24.00" in section.text and "€1.38" in section.text and "€25.38" in section.text
    too_many = parse(client.get(f"/returns/orders/{order}/lines/{mug}/preview?quantity=9", headers=HTMX))
    assert "Choose a quantity from 1 to 4" in too_many.text


def test_return_with_photo_without_javascript(app, client_as):
    order, mug = refs(app)
    client = client_as(CAMILLE)
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return")).find("form", class_="mr-return-form")
    response = submit(client, form, quantity="2", reason_code="damaged", comment="Two arrived cracked.",
                      files=[(jpeg_with_metadata(), "cracked.jpg")])
    assert response.status_code == 303
    [created] = requests_in_db(app)
    assert response.headers["Location"].endswith(f"/returns/requests/{created.id}")
    assert (created.kind, created.status, created.quantity, created.reason_code) == (
        "return", "requested", 2, "damaged")
    assert created.comment == "Two arrived cracked." and created.submission_token
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 1

    details = parse(client.get(response.headers["Location"]))
    assert "Your request was sent to Atelier Lune" in details.text
    assert "Requested" in details.by_id("mr-summary").text
    assert details.by_id("mr-timeline").find("img") is not None

    again = parse(client.get(f"/returns/orders/{order}"))
    line = again.by_id(f"mr-line-{mug}")
    assert "2 returnable now" in line.text
    assert line.find("a", href=f"/returns/requests/{created.id}").text == "See details"


def test_same_form_posted_twice_makes_one_request(app, client_as):
    order, mug = refs(app)
    client = client_as(CAMILLE)
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    first = submit(client, form, quantity="1", reason_code="changed_mind", files=[])
    second = submit(client, form, quantity="1", reason_code="changed_mind", files=[])
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(requests_in_db(app)) == 1


def test_the_last_units_form_sent_again_answers_with_its_request(app, client_as):
    """A retry after a lost answer (or the outage page's "send again") is answered with
    the request the first post made, even though no unit is left to request now."""
    order, mug = refs(app)
    client = client_as(CAMILLE)
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    first = submit(client, form, quantity="4", reason_code="changed_mind", files=[])
    again = submit(client, form, quantity="4", reason_code="changed_mind", files=[])
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert len(requests_in_db(app)) == 1
    # A new form (another token) for that line is still refused, with the reason.
    other = submit(client, form, submission_token="another1token", quantity="1", reason_code="changed_mind",
                   files=[])
    assert other.status_code == 403 and "already under a request" in parse(other).text


def test_htmx_submit_swaps_the_line_in_place(app, client_as):
    order, mug = refs(app)
    client = client_as(CAMILLE)
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    response = submit(client, form, headers=HTMX, quantity="1", kind="exchange", reason_code="wrong_size",
                      wanted_ref=form.find("select", name="wanted_ref").find_all("option")[1].get("value"),
                      files=[])
    assert response.status_code == 200
    line = parse(response).one("li", class_="mr-line")
    assert line.get("id") == f"mr-line-{mug}"
    assert "Your request was sent to Atelier Lune" in line.text
    assert "Exchange" in line.find(class_="mr-line-requests").text
    assert "3 returnable now" in line.text
    [created] = requests_in_db(app)
    assert created.kind == "exchange" and created.wanted_label == "Speckled mug – Sand"


def test_invalid_input_comes_back_with_messages_and_saves_nothing(app, client_as, tmp_path):
    order, mug = refs(app)
    client = client_as(CAMILLE)
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    fid = f"mr-return-{mug}"
    truncated = plain_jpeg(200, 200)
    cases = [
        ({"quantity": "5", "reason_code": "changed_mind"}, [], "quantity", "at most 4 items"),
        ({"quantity": "0", "reason_code": "changed_mind"}, [], "quantity", "from 1 to 4"),
        ({"quantity": "1", "reason_code": "bored"}, [], "reason_code", "Choose a reason from the list"),
        ({"quantity": "1", "reason_code": "damaged"}, [], "photos", "Attach at least one photo"),
        ({"quantity": "1", "reason_code": "damaged"}, [(b"just some text, not a picture", "mug.jpg")],
         "photos", "not a readable image"),
        ({"quantity": "1", "reason_code": "damaged"}, [(truncated[: len(truncated) // 2], "half.jpg")],
         "photos", "not a readable image"),
        ({"quantity": "1", "reason_code": "damaged"}, [(plain_jpeg(), f"p{i}.jpg") for i in range(6)],
         "photos", "Attach at most 5 photos"),
        ({"quantity": "1", "reason_code": "other", "kind": "exchange", "wanted_ref": ""}, [],
         "wanted_ref", "Choose the product you would like instead"),
    ]
    for changes, files, field, message in cases:
        for headers in (HTMX, {}):
            response = submit(client, form, headers=headers, files=files, **changes)
            assert response.status_code == 422, (changes, response.status_code)
            page = parse(response)
            error = page.by_id(f"{fid}-{field}-error")
            assert error is not None and message in error.text, (field, page.text[:300])
            assert error.get("role") == "alert"
            if headers:
                assert "<html" not in response.get_data(as_text=True)
                assert page.find("li", id=f"mr-line-{mug}") is not None
    assert requests_in_db(app) == []
    photo_dir = app.config["MIRETTE_RETURNS_PHOTO_DIR"]
    assert not os.path.exists(photo_dir) or not any(files for _r, _d, files in os.walk(photo_dir))


def test_bad_photo_and_other_errors_are_reported_together(app, client_as):
    order, mug = refs(app)
    client = client_as(CAMILLE)
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    response = submit(client, form, headers=HTMX, quantity="9", reason_code="damaged",
                      files=[(b"GIF89a-not-really", "x.jpg")])
    page = parse(response)
    assert "at most 4 items" in page.by_id(f"mr-return-{mug}-quantity-error").text
    assert "not a readable image" in page.by_id(f"mr-return-{mug}-photos-error").text
    # The field points at its message.
    quantity = page.find("input", name="quantity")
    assert f"mr-return-{mug}-quantity-error" in quantity.get("aria-describedby")
    assert quantity.get("aria-invalid") == "true" and quantity.get("value") == "9"
    assert requests_in_db(app) == []


def test_huge_images_are_refused(app, client_as):
    from mirette_returns_plugin.state import EXTENSION_KEY
    from tests.pagekit import huge_png

    order, mug = refs(app)
    client = client_as(CAMILLE)
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    response = submit(client, form, headers=HTMX, quantity="1", reason_code="damaged",
                      files=[(huge_png(), "bomb.png")])
    assert response.status_code == 422
    assert ("bomb.png is 49 megapixels; photos of up to 25 megapixels are accepted"
            in parse(response).by_id(f"mr-return-{mug}-photos-error").text)
    assert app.extensions[EXTENSION_KEY].photos.decoded == 0, "refused from its header, never decoded"
    app.extensions[EXTENSION_KEY].photos.max_bytes = 2000
    response = submit(client, form, headers=HTMX, quantity="1", reason_code="damaged",
                      files=[(jpeg_with_metadata(400, 400), "big.jpg")])
    assert response.status_code == 422
    assert "larger than" in parse(response).by_id(f"mr-return-{mug}-photos-error").text
    assert requests_in_db(app) == []


def test_final_line_and_fully_requested_line_offer_no_form(app, client_as):
    order, mug = refs(app)
    client = client_as(CAMILLE)
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    assert submit(client, form, quantity="4", reason_code="changed_mind", files=[]).status_code == 303
    line = parse(client.get(f"/returns/orders/{order}")).by_id(f"mr-line-{mug}")
    assert "0 returnable now" in line.text
    assert line.find("a", class_="mr-button") is None
    assert "already under a request" in line.text
    refused = client.get(f"/returns/orders/{order}/lines/{mug}/return")
    assert refused.status_code == 403
    assert "already under a request" in text_of(refused)


def test_return_request_button_macro_and_global(app, client_as):
    from flask import render_template_string

    template = ('{% from "mirette_returns/macros.html" import return_request_button %}'
                '[{{ return_request_button(ref) }}]')
    refs_by_number = {}
    with app.app_context():
        for number in ("MIR-1001", "MIR-1004", "MIR-1005", "MIR-2001"):
            refs_by_number[number] = order_ref(number)
    client = client_as(CAMILLE)
    with client.session_transaction() as session:
        account_id = session["account_id"]
    rendered = {}
    for number, ref in refs_by_number.items():
        with app.test_request_context():
            from flask import session

            session["account_id"] = account_id
            session["locale"] = "en"
            rendered[number] = render_template_string(template, ref=ref)
    assert "Return Request" in rendered["MIR-1001"]  # pending: can be cancelled
    assert f'href="/returns/orders/{refs_by_number["MIR-1004"]}"' in rendered["MIR-1004"]
    assert rendered["MIR-1005"] == "[]"  # window over, no request
    assert rendered["MIR-2001"] == "[]"  # Alex's order


def test_a_post_larger_than_the_photo_limits_is_refused_with_a_page(app, client_as):
    from mirette_returns_plugin.state import EXTENSION_KEY

    order, mug = refs(app)
    client = client_as(CAMILLE)
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    config = app.extensions[EXTENSION_KEY].config
    config["MAX_PHOTOS"], config["MAX_PHOTO_BYTES"] = 1, 1000
    # Encoded in memory: the test client would spool a body this large to a file.
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict({**form_values(form), "quantity": "1", "reason_code": "damaged"})
    values.add("photos", FileStorage(io.BytesIO(b"\xff" * (1024 * 1024 + 5000)), "huge.jpg"))
    boundary, body = encode_multipart(values)
    response = client.post(form.get("action"), data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "What you sent is too large" in text_of(response)
    assert requests_in_db(app) == []


def test_a_line_that_cannot_be_returned_says_why_once_without_a_returnable_count(app, client_as):
    pending, mug = refs(app, "MIR-1001")
    with app.app_context():
        lune = artist_ref(LUNE)
        mug = line_ref("MIR-1001", "Speckled mug")
    client = client_as(CAMILLE)
    line = parse(client.get(f"/returns/orders/{pending}")).by_id(f"mr-line-{mug}")
    quantities = line.find(class_="mr-quantities").text
    assert "2 bought" in quantities and "returnable" not in quantities
    assert "has not been processed yet" in line.text

    with app.app_context():
        set_stage("MIR-1001", LUNE, "cancelled")
    part = parse(client.get(f"/returns/orders/{pending}")).by_id(f"mr-part-{lune}")
    assert "returnable" not in part.find(class_="mr-quantities").text
    assert part.text.count("cancelled") == 1, part.text


def test_one_unit_left_is_said_plainly_and_a_full_line_is_refused_alike(app, client_as):
    order, mug = refs(app)
    client = client_as(CAMILLE)
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    assert submit(client, form, quantity="3", reason_code="changed_mind", files=[]).status_code == 303
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    assert "You can return 1 item of this line." in form.by_id(f"mr-return-{mug}-quantity-hint").text
    response = submit(client, form, headers=HTMX, quantity="0", reason_code="changed_mind", files=[])
    assert response.status_code == 422
    assert parse(response).by_id(f"mr-return-{mug}-quantity-error").text == "You can return 1 item of this line."

    assert submit(client, form, quantity="1", reason_code="changed_mind", files=[]).status_code == 303
    # The form of a fully requested line and a post of its old form: one reason, one status.
    assert client.get(f"/returns/orders/{order}/lines/{mug}/return").status_code == 403
    for headers in (HTMX, {}):
        for files in ([], [(plain_jpeg(), "mug.jpg")]):
            # Another form's token: the same form sent again is answered with its request.
            refused = submit(client, form, headers=headers, submission_token="another1token", quantity="1",
                             reason_code="changed_mind", files=files)
            assert refused.status_code == 403
            assert "Every unit of this item is already under a request." in text_of(refused)
    assert len(requests_in_db(app)) == 2
