"""Photos cost nothing until every cheap check has passed.

A PNG of one colour and tens of megapixels weighs a few kilobytes but takes
about a second and hundreds of megabytes to decode. A post that is refused
for who sends it, the request's status or a rate must answer before any
photo is decoded; a photo too large in pixels is refused from its header; a
worker decodes a bounded number of photos at once; and one person sends a
bounded number of photos a day. "Decoded" is read from the photo store's own
count, never from a clock.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Message, Photo, Request, utcnow
from mirette_returns_plugin.state import EXTENSION_KEY
from tests.hardening import snapshot
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    huge_png,
    parse,
    plain_jpeg,
    submit,
    text_of,
)
from tests.shop import ALEX, CAMILLE, LUNE, line_ref, order_ref, user

#: Just under the 25-megapixel default: accepted by the header check, costly to decode.
ALMOST_TOO_BIG = 4900  # 4900 x 4900 = 24 megapixels


@pytest.fixture(scope="module")
def costly_png() -> bytes:
    return huge_png(ALMOST_TOO_BIG)


def _store(app):
    return app.extensions[EXTENSION_KEY].photos


def _settings(app, **values) -> None:
    app.extensions[EXTENSION_KEY].config.update(values)


def _a_return(app, reason: str = "changed_mind") -> int:
    with app.test_request_context():
        created = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code=reason))
        request_id = created.id
        db.session.remove()
        return request_id


def _reply(client, request_id: int, files: list[tuple[bytes, str]], body: str = "Look at this", headers=None):
    data = {"body": body, "photos": [(io.BytesIO(content), name) for content, name in files]}
    return client.post(f"/returns/requests/{request_id}/messages", data=data, headers=headers or HTMX,
                       content_type="multipart/form-data")


def _photo_count(app) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.count()).select_from(Photo))
        db.session.remove()
        return found


def test_a_small_photo_is_decoded_once(app, client_as):
    """The count the tests below read is the real one."""
    request_id = _a_return(app)
    response = _reply(client_as(CAMILLE), request_id, [(plain_jpeg(), "label.jpg")])
    assert response.status_code == 200
    assert _store(app).decoded == 1 and _photo_count(app) == 1


def test_a_reply_refused_by_the_rate_decodes_nothing(app, client_as, costly_png):
    request_id = _a_return(app)
    _settings(app, MESSAGES_PER_MINUTE=1)
    camille = client_as(CAMILLE)
    assert _reply(camille, request_id, [], body="First message").status_code == 200
    before = snapshot(app)
    response = _reply(camille, request_id, [(costly_png, f"bomb{n}.png") for n in range(5)])
    assert response.status_code == 403
    assert "You are sending messages very fast" in text_of(response)
    assert _store(app).decoded == 0
    assert snapshot(app) == before


def test_a_reply_by_someone_without_a_role_decodes_nothing(app, client_as, costly_png):
    request_id = _a_return(app)
    before = snapshot(app)
    response = _reply(client_as(ALEX), request_id, [(costly_png, "bomb.png")])
    assert response.status_code == 404
    assert _store(app).decoded == 0
    assert snapshot(app) == before


def test_a_reply_on_a_long_closed_request_decodes_nothing(app, client_as, costly_png):
    request_id = _a_return(app)
    with app.app_context():
        request = db.session.get(Request, request_id)
        request.status, request.closed_at = "withdrawn", utcnow() - timedelta(days=30)
        db.session.commit()
    before = snapshot(app)
    response = _reply(client_as(CAMILLE), request_id, [(costly_png, "bomb.png")])
    assert response.status_code == 403
    assert "its thread takes no more messages" in text_of(response)
    assert _store(app).decoded == 0
    assert snapshot(app) == before


def test_a_return_refused_for_its_status_or_rate_decodes_nothing(app, client_as, costly_png):
    camille = client_as(CAMILLE)
    with app.app_context():
        late_order, vase_set = order_ref("MIR-1005"), line_ref("MIR-1005", "Tumbler set")
        order, mug = order_ref("MIR-1004"), line_ref("MIR-1004", "Speckled mug")
    before = snapshot(app)
    # Delivered 50 days ago, under a 7-day return period.
    response = camille.post(f"/returns/orders/{late_order}/lines/{vase_set}/return", headers=HTMX,
                            content_type="multipart/form-data",
                            data={"quantity": "1", "kind": "return", "reason_code": "damaged",
                                  "photos": [(io.BytesIO(costly_png), "bomb.png")]})
    assert response.status_code == 403
    assert "The return period of 7 days ended" in text_of(response)
    assert _store(app).decoded == 0 and snapshot(app) == before
    _settings(app, REQUESTS_PER_HOUR=1)
    _a_return(app)
    before = snapshot(app)
    form = parse(camille.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    response = submit(camille, form, headers=HTMX, quantity="1", reason_code="damaged",
                      files=[(costly_png, f"bomb{n}.png") for n in range(5)])
    assert response.status_code == 403
    assert "You have sent many requests in the last hour" in text_of(response)
    assert _store(app).decoded == 0
    assert snapshot(app) == before


def test_a_photo_over_the_pixel_limit_is_refused_from_its_header(app, client_as):
    request_id = _a_return(app)
    before = snapshot(app)
    response = _reply(client_as(CAMILLE), request_id, [(huge_png(5100), "IMG_2001.png")])
    assert response.status_code == 422
    error = parse(response).by_id("mr-reply-photos-error")
    assert error is not None and "IMG_2001.png is 26 megapixels; photos of up to 25 megapixels" in error.text
    assert _store(app).decoded == 0
    assert snapshot(app) == before


def test_when_every_decoder_is_busy_the_post_is_refused_not_queued(app, client_as):
    request_id = _a_return(app)
    store = _store(app)
    store.busy_wait = 0.05
    taken = 0
    while store.decoder_slots.acquire(blocking=False):
        taken += 1
    try:
        assert taken == 2, "two decoders per worker by default"
        before = snapshot(app)
        response = _reply(client_as(CAMILLE), request_id, [(plain_jpeg(), "label.jpg")])
        assert response.status_code == 503
        assert "Many photos are being processed right now. Please try again in a minute." in text_of(response)
        assert store.decoded == 0 and snapshot(app) == before
    finally:
        for _ in range(taken):
            store.decoder_slots.release()
    assert _reply(client_as(CAMILLE), request_id, [(plain_jpeg(), "label.jpg")]).status_code == 200


def test_the_daily_photo_quota_refuses_the_next_photo(app, client_as):
    _settings(app, PHOTOS_PER_DAY=3)
    request_id = _a_return(app)
    camille, lune = client_as(CAMILLE), client_as(LUNE)
    assert _reply(camille, request_id, [(plain_jpeg(), "a.jpg"), (plain_jpeg(), "b.jpg")]).status_code == 200
    assert _reply(camille, request_id, [(plain_jpeg(), "c.jpg")]).status_code == 200
    decoded, before = _store(app).decoded, snapshot(app)
    response = _reply(camille, request_id, [(plain_jpeg(), "d.jpg")], body="One more")
    assert response.status_code == 403
    assert "You can send 3 photos per 24 hours and have 0 left" in text_of(response)
    assert _store(app).decoded == decoded and snapshot(app) == before
    # The quota is the person's: the artist still sends hers, and text alone is not counted.
    assert _reply(lune, request_id, [(plain_jpeg(), "e.jpg")]).status_code == 200
    assert _reply(camille, request_id, [], body="Text only").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)
                                 .where(Message.body == "One more")) == 0
        db.session.remove()
    # The workflow holds the same rule for a return's photos.
    with app.test_request_context():
        photo = _store(app).prepare(io.BytesIO(plain_jpeg()), "f.jpg")
        with pytest.raises(workflow.NotAllowed, match="have 0 left"):
            workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
                line_ref=line_ref("MIR-1004", "Serving bowl"), quantity=1, kind="return",
                reason_code="damaged", photos=[photo]))
        db.session.remove()
