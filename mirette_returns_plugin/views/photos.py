"""Serving photos: only to the buyer, the artist of the item and support."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, redirect, request
from werkzeug.wrappers import Response as AnyResponse

from ..access import current_user, roles_on
from ..models import Photo, Request
from ..state import current_state
from .common import not_found


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/photos/<int:photo_id>", "photo", photo)


def photo(photo_id: int) -> AnyResponse:
    """The photo (``?size=thumb``: its thumbnail), or 404 for anyone else."""
    state = current_state()
    user = current_user()
    row = state.session.execute(
        sa.select(Photo.storage_key, Photo.thumbnail_key, Photo.content_type, Request.buyer_ref,
                  Request.artist_ref)
        .join(Request, Photo.request_id == Request.id)
        .where(Photo.id == photo_id)
    ).one_or_none()
    # Unknown and forbidden look the same, so nobody learns which photos exist.
    if row is None or not roles_on(user, row):
        raise not_found()
    key = row.thumbnail_key if request.args.get("size") == "thumb" else row.storage_key
    temporary_url = getattr(state.photos.storage, "temporary_url", None)
    if state.config["PHOTO_DELIVERY"] == "redirect" and temporary_url is not None:
        # Checked above: the object store serves the bytes, for a few minutes.
        # The redirect itself is not kept, so a later visit is checked again.
        response = redirect(temporary_url(key, state.config["PHOTO_URL_SECONDS"]), 302)
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.add("Cookie")
        return response
    data = state.photos.storage.open(key)
    if data is None:
        raise not_found()
    response = Response(data, mimetype=row.content_type)
    # Kept by the browser, but asked for again each time it is shown: someone
    # who lost access (signed out, another account) sees it no more.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.vary.add("Cookie")
    return response
