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

#: Largest accepted photo, in pixels (width x height); bigger is refused
#: before it is decoded, as a possible decompression bomb (decoding costs
#: about 14 bytes of memory and 40 ms of CPU per megapixel, whatever the file
#: size). 25 megapixels takes what a phone saves by default: 12 MP
#: (4000 x 3000) on most, 24 MP (5712 x 4284) on the newest; a 48-50 MP
#: "full resolution" shot is refused, with a message asking for a smaller
#: photo (such files are over ``MAX_PHOTO_BYTES`` anyway, and the copy kept
#: is ``PHOTO_MAX_EDGE`` pixels wide).
MAX_PHOTO_PIXELS = 25_000_000

#: Photos decoded at the same time by one worker process. Each may take
#: ``MAX_PHOTO_PIXELS`` x 14 bytes of memory for a second; more posts wait.
PHOTO_DECODERS = 2

#: Seconds a post waits for a free decoder before it is answered 503 ("try
#: again in a moment"), so that a burst of photos cannot queue without end.
PHOTO_BUSY_WAIT_SECONDS = 5.0

#: Photos one person may send per 24 hours, on all requests together
#: (``0``: no limit). The support team is not limited.
PHOTOS_PER_DAY = 40

#: Longest edge of the re-encoded photo kept for display, in pixels.
PHOTO_MAX_EDGE = 2000

#: Longest edge of a thumbnail, in pixels.
THUMBNAIL_EDGE = 320

#: Folder for photos when the default local storage is used. ``None`` means
#: ``<instance_path>/mirette_returns_photos``.
PHOTO_DIR: str | None = None

#: Longest message or comment, in characters.
MESSAGE_MAX_LENGTH = 5000

#: Where signed-out visitors sign in: a path, a URL or an endpoint name. A
#: signed-out visitor asking for a plugin page is sent there with ``next``
#: set to that page. ``None``: Flask-Login's ``login_view`` when the app has
#: one, else the page every stranger gets (404).
LOGIN_URL: str | None = None

#: Seconds between two polls of a details page for news.
POLL_SECONDS = 10

#: Answer a details page's quiet poll ("nothing new", with the key its page
#: gave it, in the session it was given to) before Flask sets up the request
#: (:mod:`.poll_shortcut`): about a quarter of the CPU time. Such a poll
#: then skips your ``before_request`` and ``after_request`` hooks, Flask's
#: signals and the renewal of a permanent session's cookie; it steps aside
#: for Flask-Limiter (see ``LIMIT_POLL``) and for sessions kept on the server.
#: ``False``: every poll goes through Flask.
POLL_BEFORE_FLASK = True

#: Requests per page in the artist inbox and the support list.
PAGE_SIZE = 25

#: Sender of every email (falls back to ``MAIL_DEFAULT_SENDER``).
MAIL_SENDER: str | None = None

#: Put before the subject of every email (``""`` for none). ``None``: the
#: shop's name in brackets (``"[Corner Tea House]"``) when ``SHOP_NAME`` or the
#: adapter gives one, else nothing.
MAIL_SUBJECT_PREFIX: str | None = None

#: Domain of the emails' Message-IDs. ``None``: the sender's domain, else the
#: host of ``EXTERNAL_BASE_URL``, else ``SERVER_NAME``.
MAIL_DOMAIN: str | None = None

#: The shop's name as buyers read it: in email subjects, and wherever the
#: shop's staff act for it (never a staff member's login name). ``None``: the
#: adapter's ``shop_name()`` (the ready adapter gives ``SingleSeller.name``).
SHOP_NAME: str | None = None

#: Whether several sellers share the shop, each selling under their own terms
#: (the sentences about "each artist" and the intermediary are shown only
#: then). ``None``: the adapter's ``is_marketplace()``, else ``True``.
MARKETPLACE: bool | None = None

#: What a seller is called on labels: ``"artist"``, ``"seller"``, ``"maker"``
#: or ``"shop"``. ``None``: ``"artist"`` on a marketplace, ``"shop"`` otherwise.
#: Sentences name the seller by their name rather than by this word.
SELLER_WORD: str | None = None

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

#: The legal minimum return window, in days after delivery (``0``: none). An
#: artist's shorter window is raised to it, and the policy the buyer reads
#: says so. In the EU a distance sale may be withdrawn from within 14 days of
#: delivery: a shop selling there sets ``14``. Final sales stay final.
MINIMUM_RETURN_DAYS = 0

#: Seconds after which a refund attempt that never answered may be retried.
REFUND_RETRY_AFTER = 60

#: Days the party who must act on a request (the artist, or the buyer who has
#: to send the item back) has before they get one reminder email; an
#: artist's ``ReturnPolicy.answer_days`` wins. ``None``: no reminders.
#: Sent by ``flask mirette-returns tick`` (see docs/notifications.md).
ANSWER_DAYS: int | None = 3

#: Days after that reminder's due date before the support team is asked to
#: step in on its own, when the artist still has not acted. ``None``: never.
ESCALATE_AFTER_DAYS: int | None = 4

#: Count those days Monday to Friday (UTC); ``False``: every calendar day.
BUSINESS_DAYS = True

#: A function giving the current moment (timezone-aware) to reminders and to
#: the date the buyer's page announces; ``None``: the real clock. For tests
#: and for replaying a day.
CLOCK = None

#: Requests a user may create per hour (``0``: no limit).
REQUESTS_PER_HOUR = 30

#: Messages a user may post per minute (``0``: no limit).
MESSAGES_PER_MINUTE = 12

#: Messages one person may post per 24 hours, on all requests together
#: (``0``: no limit). The support team is not limited.
MESSAGES_PER_DAY = 100

#: Most messages in one request's thread (``0``: no limit); then only the
#: support team may still write there.
MESSAGES_PER_THREAD = 300

#: Days after a request is closed (declined, withdrawn, refunded, replacement
#: shipped) during which its buyer and artist may still write in its thread
#: (``0``: not at all once closed). The support team may always write.
MESSAGES_AFTER_CLOSING_DAYS = 14

#: Messages shown per page of a request's timeline (with the steps taken
#: among them), newest first; older ones come with an "Older messages" link.
TIMELINE_PAGE_SIZE = 50

#: Bytes of rendered HTML each worker keeps per app (a request's timeline, a
#: list's rows), drawn once per version of a request, language and time zone
#: and served again while the request does not change (see "Speed" in
#: docs/install.md); ``0`` draws everything on every page.
FRAGMENT_CACHE_BYTES = 16 * 1024 * 1024

#: Whether an artist sees the buyer's email address on a request (pages and
#: emails). The support team always sees it; an address the buyer typed for a
#: cancellation is shown to the artist, since it was given for the answer.
SHOW_BUYER_EMAIL_TO_ARTISTS = False

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

#: Photos in an S3-compatible object store instead of ``PHOTO_DIR`` (needs the
#: ``s3`` extra): the bucket's name, ``None`` for the local folder. Credentials
#: come from boto3's own chain (environment, ``~/.aws``, a role), never from here.
S3_BUCKET: str | None = None

#: Folder inside the bucket for the plugin's objects (``""``: the top).
S3_PREFIX = "mirette-returns/photos"

#: Address of a store other than AWS (MinIO: ``http://minio:9000``); ``None``: AWS.
S3_ENDPOINT_URL: str | None = None

#: Region of the bucket; ``None``: boto3's default.
S3_REGION: str | None = None

#: How a photo reaches a person allowed to see it: ``"stream"`` (through the
#: app) or ``"redirect"`` (to a presigned URL of the object store, valid
#: ``PHOTO_URL_SECONDS``; the local folder always streams).
PHOTO_DELIVERY = "stream"

#: Seconds a presigned photo URL stays valid.
PHOTO_URL_SECONDS = 300

#: Limits put on the plugin's endpoints when the shop runs Flask-Limiter (its
#: storage, shared by every app server, holds the counts), per signed-in user,
#: in Flask-Limiter's notation; ``None`` leaves those endpoints alone. Without
#: Flask-Limiter only ``REQUESTS_PER_HOUR`` and ``MESSAGES_PER_MINUTE`` apply.
#: This one: polls of a details page for news.
LIMIT_POLL: str | None = "60 per minute"

#: Messages posted (Flask-Limiter only, see ``LIMIT_POLL``).
LIMIT_MESSAGE: str | None = "20 per minute"

#: Photos uploaded, counted one by one, on requests and messages together
#: (Flask-Limiter only, see ``LIMIT_POLL``).
LIMIT_PHOTOS: str | None = "100 per hour"

#: Posts of a return, exchange or cancellation form, refused ones included
#: (Flask-Limiter only, see ``LIMIT_POLL``).
LIMIT_SUBMIT: str | None = "60 per hour"

#: The keys, their ``MIRETTE_RETURNS_`` name and default, in one place.
DEFAULTS: dict[str, object] = {
    f"MIRETTE_RETURNS_{name}": value
    for name, value in list(globals().items())
    if name.isupper() and name != "DEFAULTS"
}
