"""Photos in an S3-compatible object store: uploaded through the pages, kept
in the bucket, served only after the plugin's own check, gone on rollback."""

from __future__ import annotations

import io
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from PIL import Image

from mirette_returns_plugin import workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.errors import ConfigurationError
from mirette_returns_plugin.models import Photo, Request
from mirette_returns_plugin.s3_photos import S3PhotoStorage
from mirette_returns_plugin.state import current_state
from mirette_returns_plugin.workflow import ReturnForm
from tests.fixtures_s3 import free_port, s3_bucket, s3_server  # noqa: F401  (the fixtures)
from tests.pagekit import (
    HTMX,
    another_app,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    jpeg_with_metadata,
    parse,
    plain_jpeg,
    submit,
)
from tests.shop import ALEX, CAMILLE, LUNE, SUPPORT, VERRE, line_ref, login, order_ref, user
from tests.test_pages_photos import send_return, stored_photos

PREFIX = "shop-a/photos"


@pytest.fixture
def delivery() -> str:
    """How photos are served; a test parametrizes it to try both."""
    return "stream"


BOTH_DELIVERIES = pytest.mark.parametrize("delivery", ["stream", "redirect"])


@pytest.fixture
def app_config(app_config: dict, s3_server, s3_bucket: str, delivery: str) -> dict:
    config = dict(app_config)
    del config["MIRETTE_RETURNS_PHOTO_DIR"]
    config.update(
        MIRETTE_RETURNS_S3_BUCKET=s3_bucket,
        MIRETTE_RETURNS_S3_PREFIX=PREFIX,
        MIRETTE_RETURNS_S3_ENDPOINT_URL=s3_server.endpoint,
        MIRETTE_RETURNS_S3_REGION="us-east-1",
        MIRETTE_RETURNS_PHOTO_DELIVERY=delivery,
        MIRETTE_RETURNS_PHOTO_URL_SECONDS=120,
    )
    return config


def fetch(client, url: str) -> tuple[int, str, bytes]:
    """Status, type and body of a photo as a browser gets it: following a
    redirect to the object store for real."""
    response = client.get(url)
    if response.status_code != 302:
        return response.status_code, response.mimetype, response.data
    assert response.headers["Cache-Control"] == "private, no-store"
    with urllib.request.urlopen(response.headers["Location"], timeout=10) as answer:
        return answer.status, answer.headers["Content-Type"], answer.read()


def test_an_uploaded_photo_is_in_the_bucket_and_not_on_disk(app, client_as, s3_server, s3_bucket, tmp_path):
    send_return(app, client_as(CAMILLE), [(jpeg_with_metadata(90, 60, orientation=1), "mug.jpg")])
    [photo] = stored_photos(app)
    assert s3_server.keys(s3_bucket) == sorted(
        [f"{PREFIX}/{photo.storage_key}", f"{PREFIX}/{photo.thumbnail_key}"])
    stored = s3_server.client().get_object(Bucket=s3_bucket, Key=f"{PREFIX}/{photo.storage_key}")
    assert stored["ContentType"] == "image/jpeg"
    assert b"SnoopCam" not in stored["Body"].read()  # cleaned before it was stored
    assert not (tmp_path / "photos").exists()


@BOTH_DELIVERIES
def test_served_to_the_buyer_artist_and_support_only(app, client_as, delivery):
    camille = client_as(CAMILLE)
    send_return(app, camille, [(jpeg_with_metadata(900, 600, orientation=1), "big.jpg")])
    [photo] = stored_photos(app)
    for email in (CAMILLE, LUNE, SUPPORT):
        status, mimetype, data = fetch(client_as(email), f"/returns/photos/{photo.id}")
        assert (status, mimetype) == (200, "image/jpeg"), email
        assert Image.open(io.BytesIO(data)).size == (900, 600)
    status, _, data = fetch(camille, f"/returns/photos/{photo.id}?size=thumb")
    assert status == 200
    assert max(Image.open(io.BytesIO(data)).size) == app.config["MIRETTE_RETURNS_THUMBNAIL_EDGE"]
    for email in (ALEX, VERRE, None):
        for url in (f"/returns/photos/{photo.id}", f"/returns/photos/{photo.id}?size=thumb"):
            response = client_as(email).get(url)
            assert response.status_code == 404, (email, url)
            assert "Location" not in response.headers


@pytest.mark.parametrize("delivery", ["redirect"])
def test_a_redirect_points_at_a_short_lived_signed_address(app, client_as, s3_server, s3_bucket):
    send_return(app, client_as(CAMILLE), [(plain_jpeg(), "mug.jpg")])
    [photo] = stored_photos(app)
    location = client_as(LUNE).get(f"/returns/photos/{photo.id}").headers["Location"]
    assert location.startswith(f"{s3_server.endpoint}/{s3_bucket}/{PREFIX}/")
    assert "X-Amz-Expires=120" in location and "X-Amz-Signature=" in location
    # The bucket is private: the same address without its signature is refused.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(location.split("?", 1)[0], timeout=10)
    refused.value.close()
    assert refused.value.code == 403


def test_a_rolled_back_request_leaves_no_object(app, s3_server, s3_bucket):
    with app.test_request_context():
        photo = current_state().photos.prepare(io.BytesIO(plain_jpeg()), "mug.jpg")
        form = ReturnForm(line_ref("MIR-1004", "Speckled mug"), 1, "return", "damaged", photos=[photo])
        workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), form, commit=False)
        assert len(s3_server.keys(s3_bucket)) == 2  # written before the commit

        db.session.rollback()

        assert s3_server.keys(s3_bucket) == []
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Request)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0
        db.session.remove()


def test_an_object_missing_from_the_store_is_a_404(app, client_as, s3_server, s3_bucket):
    camille = client_as(CAMILLE)
    send_return(app, camille, [(plain_jpeg(), "mug.jpg")])
    [photo] = stored_photos(app)
    s3_server.client().delete_object(Bucket=s3_bucket, Key=f"{PREFIX}/{photo.storage_key}")
    assert camille.get(f"/returns/photos/{photo.id}").status_code == 404


def test_an_unknown_delivery_is_refused_at_mount(app_config):
    with pytest.raises(ConfigurationError, match="MIRETTE_RETURNS_PHOTO_DELIVERY must be one of stream, redirect"), \
            another_app({**app_config, "MIRETTE_RETURNS_PHOTO_DELIVERY": "cdn"}):
        pass


def test_keys_never_leave_the_prefix(s3_server, s3_bucket):
    storage = S3PhotoStorage(s3_bucket, prefix="/p/", client=s3_server.client())
    storage.save("ab/one.jpg", b"x")
    assert s3_server.keys(s3_bucket) == ["p/ab/one.jpg"]
    assert storage.open("../ab/one.jpg") is None
    with pytest.raises(ValueError):
        storage.save("../outside.jpg", b"x")
    storage.delete("ab/one.jpg")
    storage.delete("ab/one.jpg")  # twice: still fine
    assert s3_server.keys(s3_bucket) == []


def test_an_unreachable_store_refuses_the_upload_and_the_photo_with_a_message(app, app_config, client_as):
    camille = client_as(CAMILLE)
    send_return(app, camille, [(plain_jpeg(), "first.jpg")])
    [photo] = stored_photos(app)
    with app.app_context():
        order, mug = order_ref("MIR-1004"), line_ref("MIR-1004", "Speckled mug")
    unreachable = {**app_config, "MIRETTE_RETURNS_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    with another_app(unreachable) as cut_off:
        client = login(cut_off.test_client(), CAMILLE)
        form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")

        refused = submit(client, form, quantity="1", reason_code="damaged", files=[(plain_jpeg(), "mug.jpg")])
        shown = client.get(f"/returns/photos/{photo.id}")

    assert refused.status_code == 503
    assert "Photos cannot be stored or shown just now" in parse(refused).text
    assert len(stored_photos(app)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Request)) == 1
    assert shown.status_code == 503
    assert "Photos cannot be stored or shown just now" in parse(shown).text
