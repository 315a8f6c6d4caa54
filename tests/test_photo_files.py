"""Photo files live exactly as long as the rows that name them."""

from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa

from mirette_returns_plugin import workflow
from mirette_returns_plugin.models import Photo, Request
from mirette_returns_plugin.state import current_state
from mirette_returns_plugin.workflow import ReturnForm
from tests.pagekit import plain_jpeg
from tests.shop import CAMILLE, db, line_ref, order_ref, user


def _files(app) -> list[Path]:
    folder = Path(app.config["MIRETTE_RETURNS_PHOTO_DIR"])
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _form(photo) -> ReturnForm:
    return ReturnForm(line_ref("MIR-1004", "Speckled mug"), 1, "return", "damaged", photos=[photo])


def test_a_rolled_back_request_leaves_no_photo_file(app, ctx):
    photo = current_state().photos.prepare(io.BytesIO(plain_jpeg()), "mug.jpg")
    workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), _form(photo), commit=False)
    assert len(_files(app)) == 2  # the photo and its thumbnail, written before the commit

    db.session.rollback()

    assert _files(app) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Request)) == 0


def test_a_committed_request_keeps_its_photo_files(app, ctx):
    photo = current_state().photos.prepare(io.BytesIO(plain_jpeg()), "mug.jpg")
    request = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), _form(photo))
    db.session.rollback()  # a later, unrelated rollback must not touch them

    stored = db.session.scalars(sa.select(Photo).where(Photo.request_id == request.id)).one()
    names = {p.name for p in _files(app)}
    assert Path(stored.storage_key).name in names
    assert Path(stored.thumbnail_key).name in names
