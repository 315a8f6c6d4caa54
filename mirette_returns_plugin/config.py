"""Default configuration.

Every key is read once, in :meth:`MiretteReturns.init_app`, with
``app.config.setdefault``; a shop overrides any of them in its own config.
"""

from __future__ import annotations

#: URL prefix of the blueprint.
URL_PREFIX = "/returns"

#: Template that every page extends. A shop names its own layout here; it must
#: define the blocks ``title``, ``head`` and ``content`` (see the README).
BASE_TEMPLATE = "mirette_returns/base.html"

#: Whether pages load the vendored htmx 4. Set to ``False`` when the shop's
#: layout already loads htmx (2.x or 4.x).
INCLUDE_HTMX = True

#: Most photos on one request or one message.
MAX_PHOTOS = 5

#: Largest accepted photo, in bytes.
MAX_PHOTO_BYTES = 8 * 1024 * 1024

#: Largest accepted photo, in pixels (width x height); bigger is refused as a
#: possible decompression bomb.
MAX_PHOTO_PIXELS = 40_000_000

#: Longest edge of the re-encoded photo kept for display, in pixels.
PHOTO_MAX_EDGE = 2000

#: Longest edge of a thumbnail, in pixels.
THUMBNAIL_EDGE = 320

#: Folder for photos when the default local storage is used. ``None`` means
#: ``<instance_path>/mirette_returns_photos``.
PHOTO_DIR: str | None = None

#: Longest message or comment, in characters.
MESSAGE_MAX_LENGTH = 5000

#: Seconds between two polls of a details page for news.
POLL_SECONDS = 10

#: Requests per page in the artist inbox and the support list.
PAGE_SIZE = 25

#: Sender of every email (falls back to ``MAIL_DEFAULT_SENDER``).
MAIL_SENDER: str | None = None

#: Put before the subject of every email (``""`` for none).
MAIL_SUBJECT_PREFIX = "[Mirette]"

#: Deliver the outbox right after each commit, in the web process, instead of
#: (or besides) a ``flask mirette-returns send-emails`` worker. Failures stay in
#: the outbox and are retried by the worker.
SEND_EMAILS_ON_COMMIT = False

#: Seconds during which further messages of a thread join the email of the
#: first one, so that a party posting several messages in a row sends the
#: other party one email holding them all (``0``: one email per message).
#: Emails about a change of status are never held back.
MESSAGE_EMAIL_WINDOW = 120

#: Most delivery attempts of one email before it is marked as failed.
MAIL_MAX_ATTEMPTS = 8

#: Absolute base URL used in emails when no request is active
#: (``https://shop.example``). ``None`` means ``url_for(..., _external=True)``
#: with the server name Flask knows.
EXTERNAL_BASE_URL: str | None = None

#: Seconds after which a refund attempt that never answered may be retried.
REFUND_RETRY_AFTER = 60

#: Requests a user may create per hour (``0``: no limit).
REQUESTS_PER_HOUR = 30

#: Messages a user may post per minute (``0``: no limit).
MESSAGES_PER_MINUTE = 12

#: Reason catalogue, as a list of :class:`mirette_returns_plugin.reasons.Reason`.
#: ``None`` means the built-in catalogue (see ``reasons.DEFAULT_REASONS``).
REASONS = None

#: The shop's own folders of ``mirette_returns`` catalogues
#: (``<folder>/<language>/LC_MESSAGES/mirette_returns.po`` or ``.mo``), a list
#: or one string separated by ``;``; relative ones are under the app's root.
#: They are searched before the plugin's own, so a shop rewords a string or
#: adds a language without forking (see docs/languages.md).
TRANSLATIONS_DIRS: tuple[str, ...] = ()

#: Languages a visitor's browser may pick, besides English, French and those
#: of ``TRANSLATIONS_DIRS`` (used when the shop's Flask-Babel has no locale
#: selector of its own).
LOCALES: tuple[str, ...] = ()

#: The keys, their ``MIRETTE_RETURNS_`` name and default, in one place.
DEFAULTS: dict[str, object] = {
    f"MIRETTE_RETURNS_{name}": value
    for name, value in list(globals().items())
    if name.isupper() and name != "DEFAULTS"
}
