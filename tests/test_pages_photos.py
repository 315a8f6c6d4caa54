"""Photos: uploaded through the pages, cleaned, stored, and served to the few."""

from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa
from PIL import Image

from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.models import Photo
from tests.pagekit import (
    HTMX,
    client_as,  # noqa: F401  (the shared fixture, its pages in English)
    jpeg_with_metadata,
    parse,
    png_with_text,
    submit,
    webp_image,
)
from tests.shop import ALEX, CAMILLE, LUNE, SUPPORT, VERRE, line_ref, order_ref


def send_return(app, client, files) -> int:
    with app.app_context():
        order, mug = order_ref("MIR-1004"), line_ref("MIR-1004", "Speckled mug")
    form = parse(client.get(f"/returns/orders/{order}/lines/{mug}/return", headers=HTMX)).one("form")
    response = submit(client, form, quantity="1", reason_code="damaged", files=files)
    assert response.status_code == 303, parse(response).text[:300]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def stored_photos(app) -> list[Photo]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Photo).order_by(Photo.id)))


def test_jpeg_is_reencoded_without_metadata_and_upright(app, client_as):
    camille = client_as(CAMILLE)
    send_return(app, camille, [(jpeg_with_metadata(60, 30, orientation=6), "IMG_0001.jpg")])
    [photo] = stored_photos(app)
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 30, 60)
    served = camille.get(f"/returns/photos/{photo.id}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (30, 60)
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert b"SnoopCam" not in served.data and b"secret comment" not in served.data
    # Orientation 6 turns the picture a quarter clockwise: the red left half is now on top.
    top, bottom = image.convert("RGB").getpixel((15, 5)), image.convert("RGB").getpixel((15, 55))
    assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60
    path = Path(app.config["MIRETTE_RETURNS_PHOTO_DIR"]) / photo.storage_key
    assert path.read_bytes() == served.data


def test_png_text_chunks_are_dropped_and_webp_is_accepted(app, client_as):
    camille = client_as(CAMILLE)
    send_return(app, camille, [(png_with_text(), "a.png"), (webp_image(), "b.webp")])
    png, webp = stored_photos(app)
    assert (png.content_type, webp.content_type) == ("image/png", "image/webp")
    data = camille.get(f"/returns/photos/{png.id}").data
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and not getattr(image, "text", {}) and b"rue Secret" not in data
    assert Image.open(io.BytesIO(camille.get(f"/returns/photos/{webp.id}").data)).format == "WEBP"


def test_served_with_private_headers_and_thumbnail(app, client_as):
    camille = client_as(CAMILLE)
    send_return(app, camille, [(jpeg_with_metadata(900, 600, orientation=1), "big.jpg")])
    [photo] = stored_photos(app)
    for email in (CAMILLE, LUNE, SUPPORT):
        response = client_as(email).get(f"/returns/photos/{photo.id}")
        assert response.status_code == 200, email
        assert response.headers["Cache-Control"].startswith("private")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    thumb = camille.get(f"/returns/photos/{photo.id}?size=thumb")
    assert thumb.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) == app.config["MIRETTE_RETURNS_THUMBNAIL_EDGE"]
    for email in (ALEX, VERRE, None):
        assert client_as(email).get(f"/returns/photos/{photo.id}").status_code == 404
        assert client_as(email).get(f"/returns/photos/{photo.id}?size=thumb").status_code == 404


def test_pages_show_thumbnails_linking_to_full_size(app, client_as):
    camille = client_as(CAMILLE)
    request_id = send_return(app, camille, [(jpeg_with_metadata(900, 600, orientation=1), "big.jpg")])
    [photo] = stored_photos(app)
    page = parse(client_as(LUNE).get(f"/returns/requests/{request_id}"))
    link = page.find("section", class_="mr-photo-section").find("a")
    assert link.get("href") == f"/returns/photos/{photo.id}"
    image = link.find("img")
    assert image.get("src") == f"/returns/photos/{photo.id}?size=thumb"
    assert (image.get("width"), image.get("height")) == ("320", "213")
    assert image.get("alt") == "Photo 1, sent by the buyer"
