"""Photos: checked, re-encoded without metadata, stored, served to the few.

:meth:`PhotoStore.prepare` turns an upload into a clean image in memory (or
raises a :class:`~mirette_returns_plugin.errors.ValidationError`); the
workflow then asks the :class:`PhotoStore` to keep it, so nothing is written
for a request that is refused.

Decoding is the one costly step (about a second and hundreds of megabytes for
a large image that compresses to a few kilobytes), so the views run every
cheap check (who, which status, how often) before calling ``prepare``, the
size is read from the header and refused before decoding, and a worker
decodes at most ``PHOTO_DECODERS`` photos at once.
"""

from __future__ import annotations

import io
import secrets
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from flask_babel import format_decimal
from flask_sqlalchemy.session import Session as FlaskSession
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from .errors import MiretteReturnsError, ValidationError
from .i18n import gettext as _

#: Formats accepted, and how each is written back.
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo that passed every check, re-encoded, ready to store."""

    data: bytes
    thumbnail: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class StoredPhoto:
    key: str
    thumbnail_key: str
    content_type: str
    width: int
    height: int
    byte_size: int


class PhotoStorage(Protocol):
    """Where photo bytes live. An object store implements these three."""

    def save(self, key: str, data: bytes) -> None: ...

    def open(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...


class LocalPhotoStorage:
    """Photos in a local folder (by default under the app's instance path)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        # Keys are made by the plugin, but never trust a path blindly.
        path = (self.folder / key).resolve()
        if self.folder.resolve() not in path.parents:
            raise ValueError(f"photo key outside the storage folder: {key!r}")
        return path

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".part")
        temporary.write_bytes(data)
        temporary.replace(path)

    def open(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, ValueError):
            return None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except (FileNotFoundError, ValueError):
            pass


class PhotosBusy(MiretteReturnsError):
    """Every decoder of this worker is busy: the post is refused, not queued."""

    status_code = 503


class PhotoStore:
    """Checks, re-encodes and stores photos under the plugin's limits."""

    def __init__(self, storage: PhotoStorage, *, max_bytes: int, max_pixels: int, max_edge: int,
                 thumbnail_edge: int, decoders: int = 2, busy_wait: float = 5.0) -> None:
        self.storage = storage
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.max_edge = max_edge
        self.thumbnail_edge = thumbnail_edge
        #: One slot per photo being decoded; shared by the threads of this process.
        self.decoder_slots = threading.BoundedSemaphore(max(1, decoders))
        self.busy_wait = busy_wait
        #: How many uploads this store has decoded (an operator's measure; the
        #: tests read it to prove that a refused post decodes nothing).
        self.decoded = 0
        self._counting = threading.Lock()

    def prepare(self, stream: IO[bytes], filename: str = "") -> PreparedPhoto:
        """Check an upload and re-encode it, or raise ``ValidationError``."""
        name = filename or _("the photo")
        data = stream.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise _invalid(_("%(name)s is larger than %(most)s MB.", name=name,
                             most=format_decimal(round(self.max_bytes / 1024 / 1024, 1))))
        if not data:
            raise _invalid(_("%(name)s is empty.", name=name))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                # Opening reads the header only: the size is known before any pixel is decoded.
                with Image.open(io.BytesIO(data)) as probe:
                    if probe.format not in FORMATS:
                        raise _invalid(_("%(name)s is not a JPEG, PNG or WebP image.", name=name))
                    if probe.width * probe.height > self.max_pixels:
                        raise _invalid(_("%(name)s is %(size)s megapixels; photos of up to %(most)s megapixels "
                                         "are accepted. Send a smaller photo (your phone's usual size is fine).",
                                         name=name, size=format_decimal(round(probe.width * probe.height / 1e6, 1)),
                                         most=format_decimal(round(self.max_pixels / 1e6, 1))))
        except ValidationError:
            raise
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
                OSError, SyntaxError, ValueError):
            raise _invalid(_("%(name)s is not a readable image.", name=name)) from None
        if not self.decoder_slots.acquire(timeout=self.busy_wait):
            raise PhotosBusy(_("Many photos are being processed right now. Please try again in a minute."))
        try:
            with self._counting:
                self.decoded += 1
            return self._decode(data, name)
        finally:
            self.decoder_slots.release()

    def _decode(self, data: bytes, name: str) -> PreparedPhoto:
        """Decode, check and re-encode: the costly part, run while holding a decoder slot."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as probe:
                    probe.verify()
                with Image.open(io.BytesIO(data)) as image:
                    image.load()
                    image_format = image.format
                    image = ImageOps.exif_transpose(image)
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
                OSError, SyntaxError, ValueError):
            raise _invalid(_("%(name)s is not a readable image.", name=name)) from None
        content_type, extension = FORMATS[image_format]
        clean = _without_metadata(image, image_format)
        clean.thumbnail((self.max_edge, self.max_edge))
        body = _encode(clean, image_format)
        thumb = clean.copy()
        thumb.thumbnail((self.thumbnail_edge, self.thumbnail_edge))
        return PreparedPhoto(body, _encode(thumb, image_format), content_type, extension, clean.width, clean.height)

    def store(self, photo: PreparedPhoto) -> StoredPhoto:
        stem = secrets.token_hex(16)
        key = f"{stem[:2]}/{stem}.{photo.extension}"
        thumbnail_key = f"{stem[:2]}/{stem}.thumb.{photo.extension}"
        self.storage.save(key, photo.data)
        self.storage.save(thumbnail_key, photo.thumbnail)
        return StoredPhoto(key, thumbnail_key, photo.content_type, photo.width, photo.height, len(photo.data))


def _invalid(message: str) -> ValidationError:
    return ValidationError({"photos": message})


def _without_metadata(image: Image.Image, image_format: str) -> Image.Image:
    """A copy of the pixels only: no EXIF, GPS, comment or colour profile."""
    if image_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    clean.info.clear()
    return clean


def _encode(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    options = {"quality": 88} if image_format in ("JPEG", "WEBP") else {"optimize": True}
    image.save(out, format=image_format, **options)
    return out.getvalue()


# Files are written while the transaction that records them is still open;
# if it rolls back (a conflict, a refused step, an error further on), the
# files would be orphans. The session remembers them until it commits.
_NEW_FILES = "mirette_returns_new_photo_files"


def discard_on_rollback(session: scoped_session[FlaskSession], storage: PhotoStorage, keys: tuple[str, ...]) -> None:
    """Delete ``keys`` from ``storage`` if ``session``'s transaction rolls back."""
    session.info.setdefault(_NEW_FILES, []).append((storage, keys))


@event.listens_for(Session, "after_commit")
def _keep_new_files(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)


@event.listens_for(Session, "after_soft_rollback")
def _delete_new_files(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint: the outer transaction may still commit them
    for storage, keys in session.info.pop(_NEW_FILES, []):
        for key in keys:
            storage.delete(key)
