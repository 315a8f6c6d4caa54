"""Photos in an S3-compatible object store (AWS S3, MinIO, Ceph, R2, ...).

Installed with the ``s3`` extra (``pip install 'mirette-returns[s3]'``), which
brings boto3. The plugin chooses this storage when
``MIRETTE_RETURNS_S3_BUCKET`` is set (see :func:`storage_from_settings`).

Credentials are never read from the plugin's settings: boto3 finds them in
its usual chain (environment variables, ``~/.aws``, an instance or container
role), so they stay out of the shop's config files.

Access checks stay in the plugin's view: the bucket is private, and a photo
is either streamed through the app after the check, or the check answers
with a redirect to a presigned URL valid a few minutes
(``MIRETTE_RETURNS_PHOTO_DELIVERY``).
"""

from __future__ import annotations

import logging
from typing import Any

from .errors import ConfigurationError, MiretteReturnsError
from .i18n import gettext as _

log = logging.getLogger(__name__)

#: Content types by the extension :meth:`PhotoStore.store` gives each key, so
#: the store answers a presigned URL with the right type.
_CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

#: Ways a checked photo reaches the browser.
DELIVERIES = ("stream", "redirect")


class PhotoStoreUnavailable(MiretteReturnsError):
    """The object store did not answer: nothing was saved, try again later."""

    status_code = 503


def _unavailable(error: Exception) -> PhotoStoreUnavailable:
    return PhotoStoreUnavailable(
        _("Photos cannot be stored or shown just now because of a temporary problem on our side. "
          "Please try again in a moment."))


class S3PhotoStorage:
    """A :class:`~mirette_returns_plugin.photos.PhotoStorage` on one bucket.

    ``prefix`` keeps the plugin's objects apart in a shared bucket;
    ``endpoint_url`` points at a store other than AWS (MinIO, a local test
    server); ``client`` may be a ready boto3 S3 client (its credentials and
    endpoint are then the caller's).
    """

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, client: Any = None) -> None:
        if not bucket:
            raise ConfigurationError("S3PhotoStorage needs a bucket name (MIRETTE_RETURNS_S3_BUCKET).")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or _new_client(endpoint_url, region)

    def _object_key(self, key: str) -> str:
        # Keys are made by the plugin, but never trust a path blindly.
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"photo key outside the storage prefix: {key!r}")
        return self.prefix + key

    def save(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        object_key = self._object_key(key)
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=object_key, Body=data,
                ContentType=_content_type(key), CacheControl="private, max-age=3600",
            )
        except (BotoCoreError, ClientError) as error:
            # The step that attaches the photo is refused and rolled back.
            raise _unavailable(error) from error

    def open(self, key: str) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._object_key(key))
            with answer["Body"] as body:
                data: bytes = body.read()
                return data
        except ValueError:
            return None
        except ClientError as error:
            if _code(error) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise _unavailable(error) from error
        except BotoCoreError as error:
            raise _unavailable(error) from error

    def delete(self, key: str) -> None:
        try:
            object_key = self._object_key(key)
        except ValueError:
            return
        from botocore.exceptions import BotoCoreError, ClientError

        # S3 answers a delete of a missing key as done: deleting twice is safe.
        try:
            self.client.delete_object(Bucket=self.bucket, Key=object_key)
        except (BotoCoreError, ClientError):
            # Called while a transaction rolls back: never turn that into an
            # error page. The object stays, named by no row (see docs/install.md).
            log.warning("mirette-returns: could not delete photo %s from the store", object_key, exc_info=True)

    def temporary_url(self, key: str, seconds: int) -> str:
        """A presigned GET address of ``key``, valid ``seconds``, served inline
        with the same private headers as when the app streams it."""
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._object_key(key),
                "ResponseContentType": _content_type(key),
                "ResponseContentDisposition": "inline",
                "ResponseCacheControl": f"private, max-age={seconds}",
            },
            ExpiresIn=seconds,
        )
        return url


def storage_from_settings(settings: dict[str, Any]) -> S3PhotoStorage | None:
    """The object store the settings name, or ``None`` for the local folder."""
    if settings["PHOTO_DELIVERY"] not in DELIVERIES:
        raise ConfigurationError(
            f"MIRETTE_RETURNS_PHOTO_DELIVERY must be one of {', '.join(DELIVERIES)}, "
            f"not {settings['PHOTO_DELIVERY']!r}."
        )
    if not settings["S3_BUCKET"]:
        return None
    return S3PhotoStorage(
        settings["S3_BUCKET"], prefix=settings["S3_PREFIX"] or "",
        endpoint_url=settings["S3_ENDPOINT_URL"], region=settings["S3_REGION"],
    )


def _new_client(endpoint_url: str | None, region: str | None) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - depends on the extra
        raise ConfigurationError(
            "MIRETTE_RETURNS_S3_BUCKET is set but boto3 is not installed: "
            "pip install 'mirette-returns[s3]'."
        ) from None
    # Short timeouts: a page waiting on an unreachable store should fail in
    # seconds, not hold a worker for a minute. Signature v4 is what every
    # compatible store accepts for presigned URLs.
    config = Config(signature_version="s3v4", connect_timeout=5, read_timeout=20,
                    retries={"max_attempts": 3, "mode": "standard"})
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def _content_type(key: str) -> str:
    return _CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")


def _code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
