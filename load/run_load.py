"""Load test: a few hundred buyers and artists, an SMTP outage, and a count of everything.

What it does (everything on 127.0.0.1, bounded in time):

1. creates the PostgreSQL database ``mirette_load`` (dropped first if it
   exists), creates the demo shop's tables, seeds it, and adds a
   marketplace's worth of artists, buyers and orders with ``benchmarks/marketplace``;
2. starts an SMTP server (aiosmtpd), the demo shop under gunicorn (2 workers)
   with ``MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT=False``, and a separate
   ``flask mirette-returns send-emails --loop`` worker;
3. runs simulated people, each in its own thread with think times: buyers
   open the "Request return" form of one of their items and submit it
   (sometimes twice, as a retry would, with the same form), read the
   request, write to the artist, poll for news, and now and then ask an
   artist to cancel an order not processed yet; artists read their inbox,
   answer, and accept new requests with return instructions;
4. stops the SMTP server for a while in the middle of the run;
5. lets the worker drain the outbox, then checks that every request and
   message a client got a success for exists exactly once, and that every
   email queued during the run reached the SMTP server exactly once (by
   Message-ID);
6. prints throughput, error count, p50 and p95 latency (overall and per
   kind of request) and writes them to ``load/results.json``.

Usage (from the repository root; PostgreSQL at 127.0.0.1:5432)::

    /work/venv/bin/python load/run_load.py
    /work/venv/bin/python load/run_load.py --buyers 240 --artists 60 --duration 180 \\
        --outage-start 60 --outage 45

The exit status is 0 only if nothing was lost or doubled and no request
failed.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]
BIN = Path(sys.executable).parent

import sqlalchemy as sa  # noqa: E402

SERVER_URL = os.environ.get("LOAD_POSTGRES_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("LOAD_DATABASE", "mirette_load")
DATABASE_URL = f"{SERVER_URL}/{DATABASE}"
HOST = "127.0.0.1"

#: ``benchmarks/marketplace`` scale: enough artists, buyers and orders for the run.
SCALE = {"orders": 3000, "requests": 1500, "messages": 4000, "artists": 80, "busiest": 120, "buyers": 400,
         "long_thread": 20}


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- #
# The database
# --------------------------------------------------------------------------- #


def recreate_database(database: str = DATABASE) -> None:
    engine = sa.create_engine(f"{SERVER_URL}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
    engine.dispose()


def prepare_data(seed: int, database_url: str = DATABASE_URL) -> None:
    """Tables, the demo's seed, then the benchmarks' marketplace generator on top."""
    from load_app import load_config

    from benchmarks.marketplace import Scale, generate
    from mirette_returns_plugin.demo import create_app
    from mirette_returns_plugin.demo.models import db
    from mirette_returns_plugin.models import OutboxEmail, OutboxState

    setup = create_app({**load_config(database_url), "DEMO_SEED": True, "MAIL_SUPPRESS_SEND": True})
    with setup.app_context():
        generate(Scale(seed=seed, **SCALE))
        # The seeded story's emails are not part of the run.
        db.session.execute(sa.update(OutboxEmail).where(OutboxEmail.state == OutboxState.PENDING)
                           .values(state=OutboxState.SENT))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@dataclass
class Buyer:
    account_id: int
    ref: str
    #: ``(order ref, line ref, artist ref)`` that may be returned now.
    lines: list[tuple[str, str, str]]
    #: ``(order ref, artist ref)`` not processed yet.
    cancellable: list[tuple[str, str]]
    cookie: str = ""


@dataclass
class Artist:
    account_id: int
    ref: str
    cookie: str = ""


def find_people(app, buyers_wanted: int, artists_wanted: int) -> tuple[list[Buyer], list[Artist]]:
    """Buyers with something to return, and the artists who will hear from them."""
    from mirette_returns_plugin.adapter import User
    from mirette_returns_plugin.demo.models import Account, db
    from mirette_returns_plugin.state import current_state
    from mirette_returns_plugin.views import order_page

    buyers: list[Buyer] = []
    with app.test_request_context():
        adapter = current_state().adapter
        accounts = db.session.scalars(sa.select(Account).where(Account.artist_id.is_(None),
                                                                 Account.is_support.is_(False))
                                      .order_by(Account.id)).all()
        for account in accounts:
            user = User(ref=str(account.id), name=account.name, email=account.email, locale="en",
                        artist_ref=None, is_support=False)
            lines, cancellable = [], []
            for order in adapter.orders_for_buyer(user.ref)[:12]:
                page = order_page.build(user, order.ref)
                for part in page.parts:
                    if part.can_cancel:
                        cancellable.append((order.ref, part.artist_ref))
                    lines += [(order.ref, line.ref, part.artist_ref) for line in part.lines if line.can_request]
            if lines:
                buyers.append(Buyer(account.id, user.ref, lines, cancellable))
            if len(buyers) == buyers_wanted:
                break
        heard_from = Counter(artist for buyer in buyers for _o, _l, artist in buyer.lines)
        artist_accounts = {str(a.artist_id): a.id for a in db.session.scalars(
            sa.select(Account).where(Account.artist_id.is_not(None)))}
        artists = [Artist(artist_accounts[ref], ref) for ref, _n in heard_from.most_common(artists_wanted)
                   if ref in artist_accounts]
        db.session.remove()
    return buyers, artists


def sign(app, account_id: int) -> str:
    """The session cookie the demo's sign-in page would set, with its CSRF secret in it."""
    session = {"account_id": account_id, "locale": "en", "csrf_token": secrets.token_hex(20)}
    value = app.session_interface.get_signing_serializer(app).dumps(session)
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


# --------------------------------------------------------------------------- #
# The SMTP server, which goes away for a while
# --------------------------------------------------------------------------- #


class Mailbox:
    """Counts every email by its Message-ID."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_message_id: Counter[str] = Counter()
        #: Message-ID -> the envelope's recipients, to check each went to the right person.
        self.recipients: dict[str, set[str]] = defaultdict(set)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        headers = BytesHeaderParser().parsebytes(envelope.content)
        message_id = (headers["Message-ID"] or "").strip()
        with self.lock:
            self.by_message_id[message_id] += 1
            self.recipients[message_id].update(address.lower() for address in envelope.rcpt_tos)
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.mailbox, hostname=HOST, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------- #
# Processes
# --------------------------------------------------------------------------- #


def environment(smtp_port: int, web_port: int) -> dict[str, str]:
    return {**os.environ, "LOAD_DATABASE_URL": DATABASE_URL, "LOAD_BASE_URL": f"http://{HOST}:{web_port}",
            "DEMO_MAIL_SERVER": HOST, "DEMO_MAIL_PORT": str(smtp_port),
            "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}


def start_web(port: int, env: dict[str, str], log_file: Path, threads: int, workers: int = 2) -> subprocess.Popen:
    command = [str(BIN / "gunicorn"), "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
               "--bind", f"{HOST}:{port}", "--keep-alive", "30", "--no-control-socket", "--log-level", "warning",
               "--timeout", "60",
               "load_app:app"]
    process = subprocess.Popen(command, env=env, cwd=HERE, stdout=log_file.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log_file}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", "/returns/static/mirette_returns/mirette-returns.css")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    stop_process(process)
    raise RuntimeError(f"gunicorn did not answer; see {log_file}")


def start_worker(env: dict[str, str], log_file: Path) -> subprocess.Popen:
    command = [str(BIN / "flask"), "--app", "load_app", "mirette-returns", "send-emails", "--loop",
               "--interval", "1"]
    return subprocess.Popen(command, env=env, cwd=HERE, stdout=log_file.open("w"), stderr=subprocess.STDOUT)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------- #
# What the simulated people record
# --------------------------------------------------------------------------- #


@dataclass
class Record:
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Times are kept as seconds from here (the soak sorts answers into fault windows).
    started: float = field(default_factory=time.monotonic)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    #: ``(seconds into the run, kind, seconds taken)`` of every answer.
    samples: list[tuple[float, str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: ``(seconds into the run, kind, what)`` of every error a person saw.
    error_times: list[tuple[float, str, str]] = field(default_factory=list)
    error_count: int = 0
    #: submission token -> request id the client was answered with (``None``:
    #: answered "saved" by the outage page, which cannot name it).
    requests: dict[str, int | None] = field(default_factory=dict)
    #: cancellation token -> the message sent with it.
    cancellations: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    #: message text -> (request id, the author's role).
    messages: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: message text -> photos sent with it.
    photos: dict[str, int] = field(default_factory=dict)
    accepts: set[int] = field(default_factory=set)
    #: Changes refused as expected: stale page (409), nothing left to return (422), step gone (403).
    refused: Counter = field(default_factory=Counter)

    def now(self) -> float:
        return time.monotonic() - self.started

    def timing(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1
            self.samples.append((self.now(), kind, seconds))

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.error_count += 1
            self.error_times.append((self.now(), kind, detail))
            if len(self.errors) < 25:
                self.errors.append(f"{kind}: {detail}")

    def unexpected(self, kind: str, answer: Answer, what: str) -> None:
        """An answer the flow did not expect; a 5xx was counted by the client already."""
        if answer.status < 500:
            self.error(kind, f"{answer.status} {what}: {alert(answer.body)!r}")


@dataclass
class Answer:
    status: int
    location: str
    body: str
    retry_after: float = 0.0

    def saved_during_outage(self) -> bool:
        """The database went away after the change was committed: the outage page says it is saved."""
        return self.status == 200 and "mr-unavailable" in self.body and "mr-alert-success" in self.body


class Client:
    """One person's browser: a keep-alive connection and a session cookie."""

    #: A connection idle longer than this is replaced before a request, as the
    #: server may be closing it at that very moment (a POST is never resent).
    IDLE_SECONDS = 1.0

    def __init__(self, port: int, cookie: str, record: Record, timeout: float) -> None:
        self.port = port
        self.cookie = cookie
        self.cookie_name = cookie.split("=", 1)[0]
        self.record = record
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def call(self, kind: str, method: str, path: str, form: dict[str, str] | None = None,
             htmx: bool = False, files: list[tuple[str, bytes]] = ()) -> Answer | None:
        headers = {"Cookie": self.cookie}
        body = None
        if files:
            body, headers["Content-Type"] = multipart(form or {}, files)
        elif form is not None:
            from urllib.parse import urlencode

            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if htmx:
            headers["HX-Request"] = "true"
        if time.monotonic() - self.last_used > self.IDLE_SECONDS:
            self.close()
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                elapsed = time.perf_counter() - started
                self.last_used = time.monotonic()
                self.keep_cookie(response)
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as problem:
                # A keep-alive connection the server closed between two
                # requests: reconnect once, as a browser does.
                self.close()
                if attempt == 1 and method == "GET":
                    continue
                self.record.error(kind, f"{type(problem).__name__} on {method} {path}")
                return None
            except OSError as problem:
                self.close()
                self.record.error(kind, f"{type(problem).__name__} on {method} {path}")
                return None
            self.record.timing(kind, elapsed, response.status)
            if response.status >= 500:
                # Counted here, once: the callers count only what a 5xx is not.
                self.record.error(kind, f"{response.status} on {method} {path}")
            retry_after = response.getheader("Retry-After") or ""
            return Answer(response.status, response.getheader("Location") or "", text,
                          float(retry_after) if retry_after.isdigit() else 0.0)
        return None

    def keep_cookie(self, response: http.client.HTTPResponse) -> None:
        """The browser's cookie jar, for the session cookie only."""
        for header in response.headers.get_all("Set-Cookie") or ():
            pair = header.split(";", 1)[0]
            if pair.startswith(f"{self.cookie_name}="):
                self.cookie = pair

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def multipart(form: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body, as a browser sends a form with photos."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in form.items()]
    for filename, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="{filename}"\r\n'
                     f"Content-Type: image/png\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def photo_bytes(rng: random.Random) -> bytes:
    """A small PNG of one random colour: each upload a photo of its own."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (96, 72), tuple(rng.randrange(256) for _ in range(3))).save(buffer, "PNG")
    return buffer.getvalue()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SUBMISSION = re.compile(r'name="submission_token" value="([0-9a-zA-Z]+)"')
REQUEST_ID = re.compile(r"/returns/requests/(\d+)")
POLL = re.compile(r'hx-get="(/returns/requests/\d+/news[^"]*)"')
REPLY_BOX = 'name="body"'
ACCEPT_VERSION = re.compile(r'id="mr-action-accept-version" name="version" value="(\d+)"')
PHOTO = re.compile(r'"(/returns/photos/\d+)"')
ALERT = re.compile(r'class="[^"]*(?:mr-alert-error|mr-field-error)[^"]*"[^>]*>(.*?)</', re.S)


def alert(page: str) -> str:
    """The message a refusal shows, to say in the report what a person read."""
    found = ALERT.search(page)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))).strip()[:160] if found else ""


def first(pattern: re.Pattern, text: str) -> str | None:
    found = pattern.search(text)
    return html.unescape(found.group(1)) if found else None


# --------------------------------------------------------------------------- #
# The people
# --------------------------------------------------------------------------- #


@dataclass
class Run:
    #: The app servers; each person uses one, as a load balancer's sticky session would.
    ports: tuple[int, ...]
    record: Record
    ends_at: float
    rng_seed: int
    timeout: float
    #: How often a person sends a form again after "try again in a moment" (503).
    resends: int = 0
    #: One message in this many carries a photo (0: none).
    photo_every: int = 0
    #: New requests per artist, for the artists to answer.
    news: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    news_lock: threading.Lock = field(default_factory=threading.Lock)

    def running(self) -> bool:
        return time.monotonic() < self.ends_at

    def think(self, rng: random.Random, low: float, high: float) -> None:
        end = min(self.ends_at, time.monotonic() + rng.uniform(low, high))
        while time.monotonic() < end:
            time.sleep(min(0.5, end - time.monotonic()))

    def client(self, person: Buyer | Artist, number: int) -> Client:
        return Client(self.ports[number % len(self.ports)], person.cookie, self.record, self.timeout)

    def post(self, client: Client, rng: random.Random, kind: str, path: str, form: dict[str, str],
             files: list[tuple[str, bytes]] = ()) -> Answer | None:
        """Post as a person would: after "try again in a moment" (503), wait and send the same form again."""
        answer = client.call(kind, "POST", path, form, files=files)
        for _ in range(self.resends):
            if answer is None or answer.status != 503 or not self.running():
                break
            wait = answer.retry_after or 10
            self.think(rng, wait, wait + 5)
            answer = client.call(f"{kind} (sent again)", "POST", path, form, files=files)
        return answer


def buyer(run: Run, person: Buyer, number: int) -> None:
    rng = random.Random(run.rng_seed + number)
    client = run.client(person, number)
    lines = list(person.lines)
    rng.shuffle(lines)
    run.think(rng, 0, 20)  # arrive over the first 20 seconds
    try:
        while run.running() and (lines or person.cancellable):
            if person.cancellable and (not lines or rng.random() < 0.12):
                ask_to_cancel(run, client, person, rng)
            else:
                request_id = submit_return(run, client, lines, rng)
                if request_id is not None:
                    follow(run, client, request_id, rng, "buyer", polls=rng.randint(2, 4))
            run.think(rng, 2, 6)
    finally:
        client.close()


def submit_return(run: Run, client: Client, lines: list, rng: random.Random) -> int | None:
    order, line, artist = lines[0]
    path = f"/returns/orders/{order}/lines/{line}/return"
    page = client.call("return form", "GET", path)
    if page is None or page.status >= 500:
        return None
    if page.status != 200:
        lines.pop(0)  # nothing left to return on this line
        run.record.refused["line no longer returnable"] += 1
        return None
    csrf, token = first(CSRF, page.body), first(SUBMISSION, page.body)
    form = {"csrf_token": csrf or "", "submission_token": token or "", "quantity": "1", "kind": "return",
            "reason_code": rng.choice(["changed_mind", "wrong_size", "late_delivery"]),
            "comment": f"load {uuid.uuid4().hex}"}
    run.think(rng, 1, 3)
    answer = run.post(client, rng, "submit", path, form)
    if answer is None:
        return None
    if answer.status == 422:
        lines.pop(0)
        run.record.refused["nothing left to return"] += 1
        return None
    if answer.saved_during_outage():
        lines.pop(0)
        with run.record.lock:
            run.record.requests[form["submission_token"]] = None
            run.record.refused["saved, page not shown (database outage)"] += 1
        return None
    request_id = first(REQUEST_ID, answer.location) if answer.status == 303 else None
    if request_id is None:
        run.record.unexpected("submit", answer, f"on {path}")
        return None
    with run.record.lock:
        run.record.requests[form["submission_token"]] = int(request_id)
    if rng.random() < 0.1:
        # The same form again, as a retry after a lost answer would.
        again = client.call("submit (retry)", "POST", path, form)
        if again is not None:
            with run.record.lock:
                run.record.retries += 1
            if again.status != 303 or first(REQUEST_ID, again.location) != request_id:
                run.record.unexpected("submit (retry)", again, f"{again.location} instead of request {request_id}")
    with run.news_lock:
        run.news[artist].append(int(request_id))
    return int(request_id)


def ask_to_cancel(run: Run, client: Client, person: Buyer, rng: random.Random) -> None:
    order, artist = person.cancellable.pop(0)
    page = client.call("order page", "GET", f"/returns/orders/{order}")
    if page is None or page.status != 200:
        if page is not None:
            run.record.unexpected("order page", page, f"on order {order}")
        return
    token = uuid.uuid4().hex
    form = {"csrf_token": first(CSRF, page.body) or "", "artist_ref": artist, "submission_token": token,
            "message": f"cancel {uuid.uuid4().hex}", "contact_email": ""}
    run.think(rng, 1, 3)
    answer = run.post(client, rng, "cancel", f"/returns/orders/{order}/cancel", form)
    if answer is None:
        return
    if answer.status == 303 or answer.saved_during_outage():
        with run.record.lock:
            run.record.cancellations[token] = form["message"]
    elif answer.status in (403, 409, 422):
        run.record.refused["cancellation no longer possible"] += 1
    else:
        run.record.unexpected("cancel", answer, f"on order {order}")


def follow(run: Run, client: Client, request_id: int, rng: random.Random, role: str, *, polls: int,
           accept: bool = False) -> None:
    """Read a request, write in its thread (or accept it), then poll for news."""
    path = f"/returns/requests/{request_id}"
    page = client.call("details", "GET", path)
    if page is None or page.status != 200:
        if page is not None:
            run.record.unexpected("details", page, f"on {path}")
        return
    csrf = first(CSRF, page.body) or ""
    poll = first(POLL, page.body)
    photo = first(PHOTO, page.body)
    if photo and rng.random() < 0.3:
        shown = client.call("photo", "GET", photo)
        if shown is not None and shown.status != 200:
            run.record.unexpected("photo", shown, f"on {photo}")
    run.think(rng, 1, 4)
    version = first(ACCEPT_VERSION, page.body)
    if accept and version:
        form = {"csrf_token": csrf, "version": version, "note": "Use the prepaid label in the parcel."}
        answer = run.post(client, rng, "accept", f"{path}/actions/accept", form)
        if answer is not None:
            if answer.status == 303 or answer.saved_during_outage():
                with run.record.lock:
                    run.record.accepts.add(request_id)
            elif answer.status in (403, 409):
                run.record.refused["stale page (accept)"] += 1
            else:
                run.record.unexpected("accept", answer, f"on {path}")
    elif REPLY_BOX in page.body:
        # A thread closed long ago shows no reply box: nobody writes there.
        body = f"msg {uuid.uuid4().hex}"
        files = []
        if run.photo_every and rng.randrange(run.photo_every) == 0:
            files = [(f"{uuid.uuid4().hex[:8]}.png", photo_bytes(rng))]
        answer = run.post(client, rng, "message" + (" with a photo" if files else ""), f"{path}/messages",
                          {"csrf_token": csrf, "body": body}, files=files)
        if answer is not None:
            if answer.status == 303 or answer.saved_during_outage():
                with run.record.lock:
                    run.record.messages[body] = (request_id, role)
                    if files:
                        run.record.photos[body] = len(files)
            else:
                run.record.unexpected("message", answer, f"on {path}")
    for _ in range(polls):
        if not poll or not run.running():
            break
        run.think(rng, 1, 3)
        answer = client.call("poll", "GET", poll, htmx=True)
        if answer is not None and answer.status not in (200, 204):
            run.record.unexpected("poll", answer, f"on {poll}")
        elif answer is not None and answer.status == 200:
            # News: the answer carries the poller again, asking from the new version on.
            poll = first(POLL, answer.body) or poll


def artist(run: Run, person: Artist, number: int) -> None:
    rng = random.Random(run.rng_seed + 100_000 + number)
    client = run.client(person, number)
    run.think(rng, 0, 20)
    try:
        while run.running():
            inbox = client.call("inbox", "GET", "/returns/artist/inbox")
            if inbox is None or inbox.status != 200:
                if inbox is not None:
                    run.record.unexpected("inbox", inbox, "on the inbox")
                run.think(rng, 3, 6)
                continue
            with run.news_lock:
                queue = run.news[person.ref]
                new_one = queue.popleft() if queue else None
            if new_one is not None:
                follow(run, client, new_one, rng, "artist", polls=1, accept=rng.random() < 0.6)
            else:
                listed = [int(i) for i in REQUEST_ID.findall(inbox.body)]
                if listed:
                    follow(run, client, rng.choice(listed[:10]), rng, "artist", polls=1)
            run.think(rng, 3, 8)
    finally:
        client.close()


def outage(run: Run, smtp: SMTPServer, start: float, seconds: float, timeline: dict[str, float],
           started_at: float) -> None:
    time.sleep(max(0.0, start))
    smtp.stop()
    timeline["smtp_stopped_at"] = round(time.monotonic() - started_at, 1)
    log(f"SMTP server stopped (t={timeline['smtp_stopped_at']} s)")
    time.sleep(seconds)
    smtp.start()
    timeline["smtp_started_at"] = round(time.monotonic() - started_at, 1)
    log(f"SMTP server back (t={timeline['smtp_started_at']} s)")


# --------------------------------------------------------------------------- #
# Counting afterwards
# --------------------------------------------------------------------------- #


def baselines(app) -> dict[str, int]:
    from mirette_returns_plugin.demo.models import db
    from mirette_returns_plugin.models import HistoryEntry, Message, OutboxEmail, Photo, Request

    with app.app_context():
        found = {name: db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(model.id), 0)))
                 for name, model in (("request", Request), ("message", Message), ("outbox", OutboxEmail),
                                     ("history", HistoryEntry), ("photo", Photo))}
        db.session.remove()
    return found


def pending_emails(app, since: int) -> int:
    from mirette_returns_plugin.demo.models import db
    from mirette_returns_plugin.models import OutboxEmail, OutboxState

    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail).where(
            OutboxEmail.id > since, OutboxEmail.state == OutboxState.PENDING))
        db.session.remove()
    return found


def quoted(row) -> str:
    """The messages an outbox row's email quotes: from its facts (the email is
    written from them when it is sent), else its written text."""
    facts = row.facts or {}
    if not facts:
        return row.body_text or ""
    messages = [facts.get("message") or {}, *(facts.get("gathered") or [])]
    return "\n".join(message.get("body") or "" for message in messages)


def check(app, record: Record, base: dict[str, int], smtp: SMTPServer, *, stored_objects: set[str] | None = None,
          repeats_allowed: bool = False) -> dict[str, Any]:
    """Everything a client was told succeeded is there, once, and nothing else; each change
    queued the emails the routing says, to the right people; every email arrived, once.

    ``stored_objects``: the object store's keys, to check each photo is in it.
    ``repeats_allowed``: an email delivered twice with the same Message-ID (a
    worker killed between sending and marking it sent) is counted, not a problem.
    """
    from mirette_returns_plugin.demo.models import db
    from mirette_returns_plugin.models import HistoryEntry, Message, OutboxEmail, Photo, Request, RequestKind
    from mirette_returns_plugin.state import current_state

    problems: list[str] = []
    lost: Counter = Counter()
    doubled: Counter = Counter()
    unanswered: Counter = Counter()
    with app.test_request_context():
        adapter = current_state().adapter
        requests = {row.id: row for row in db.session.scalars(sa.select(Request).where(
            Request.id > base["request"]))}
        by_token: dict[str, list[int]] = defaultdict(list)
        for row in requests.values():
            by_token[(row.submission_token or "").split(":")[0]].append(row.id)
        for token, request_id in [*record.requests.items(), *((t, None) for t in record.cancellations)]:
            stored = by_token.get(token, [])
            if not stored:
                lost["requests"] += 1
                problems.append(f"request with token {token}: answered {request_id}, not stored")
            elif len(stored) > 1:
                doubled["requests"] += 1
                problems.append(f"request with token {token}: stored {len(stored)} times")
            elif request_id is not None and stored != [request_id]:
                problems.append(f"request with token {token}: answered {request_id}, stored {stored}")
        answered = set(record.requests) | set(record.cancellations)
        unanswered["requests"] = sum(1 for token in by_token if token not in answered)

        messages = db.session.execute(sa.select(Message.id, Message.request_id, Message.body, Message.author_role)
                                      .where(Message.id > base["message"])).all()
        bodies = Counter(row.body for row in messages)
        sent_messages = {**dict.fromkeys(record.cancellations.values()), **record.messages}
        for body in sent_messages:
            if bodies[body] == 0:
                lost["messages"] += 1
            elif bodies[body] > 1:
                doubled["messages"] += 1
        unanswered["messages"] = sum(1 for body in bodies if body not in sent_messages)

        accepted = Counter(db.session.scalars(sa.select(HistoryEntry.request_id).where(
            HistoryEntry.id > base["history"], HistoryEntry.action == "accept")))
        for request_id in record.accepts:
            if accepted[request_id] == 0:
                lost["accepts"] += 1
            elif accepted[request_id] > 1:
                doubled["accepts"] += 1
        unanswered["accepts"] = sum(1 for request_id in accepted if request_id not in record.accepts)

        photos = Counter()
        photo_keys = []
        message_ids = {row.body: row.id for row in messages}
        for photo in db.session.execute(sa.select(Photo.message_id, Photo.storage_key, Photo.thumbnail_key)
                                        .where(Photo.id > base["photo"])):
            photos[photo.message_id] += 1
            photo_keys += [photo.storage_key, photo.thumbnail_key]
        for body, count in record.photos.items():
            stored = photos[message_ids.get(body)]
            lost["photos"] += max(0, count - stored)
            doubled["photos"] += max(0, stored - count)
        told = {message_ids.get(body) for body in record.photos}
        unanswered["photos"] = sum(n for message_id, n in photos.items() if message_id not in told)
        if stored_objects is not None:
            missing_objects = [key for key in photo_keys if key not in stored_objects]
            lost["photo files"] = len(missing_objects)

        # What the routing says (docs/notifications.md): a new request tells the
        # artist, the artist's acceptance tells the buyer, a message the other
        # party; a cancellation's opening message is quoted in the artist's
        # "new cancellation request" email.
        addresses: dict[tuple[int, str], set[str]] = {}

        def people(request_id: int, role: str) -> set[str]:
            if (request_id, role) not in addresses:
                row = requests.get(request_id) or db.session.get(Request, request_id)
                if role == "artist":
                    artist = adapter.get_artist(row.artist_ref)
                    found = {(artist.email if artist else row.artist_email).lower()}
                else:
                    order = adapter.get_order(row.order_ref) if row.kind != RequestKind.CANCELLATION else None
                    found = {(order.buyer_email if order else row.buyer_email).lower()}
                    if row.contact_email:
                        found.add(row.contact_email.lower())
                addresses[(request_id, role)] = found
            return addresses[(request_id, role)]

        emails = db.session.execute(sa.select(OutboxEmail.event_key, OutboxEmail.request_id, OutboxEmail.recipient,
                                              OutboxEmail.facts, OutboxEmail.body_text, OutboxEmail.message_id,
                                              OutboxEmail.state,
                                              OutboxEmail.attempts)
                                    .where(OutboxEmail.id > base["outbox"])).all()
        by_event: dict[str, list] = defaultdict(list)
        for row in emails:
            by_event[row.event_key.split(":", 1)[0]].append(row)
        explained: set[str] = set()
        route = {"submit": "artist", "accept": "buyer"}
        for entry in db.session.execute(sa.select(HistoryEntry.id, HistoryEntry.request_id, HistoryEntry.action,
                                                  HistoryEntry.actor_role)
                                        .where(HistoryEntry.id > base["history"])):
            if entry.action not in route or (entry.action == "accept" and entry.actor_role != "artist"):
                problems.append(f"a step the run did not take: {entry.action} by {entry.actor_role}")
                continue
            key = f"history-{entry.id}"
            explained.add(key)
            wanted = people(entry.request_id, route[entry.action])
            got = Counter(row.recipient.lower() for row in by_event[key])
            lost["emails"] += len(wanted - set(got))
            doubled["emails"] += sum(n - 1 for n in got.values())
            if set(got) - wanted:
                problems.append(f"{entry.action} of request {entry.request_id} emailed {sorted(set(got) - wanted)}")
            if entry.action == "submit" and requests[entry.request_id].kind == RequestKind.CANCELLATION:
                opening = record.cancellations.get((requests[entry.request_id].submission_token or "").split(":")[0])
                if opening and not any(opening in quoted(row) for row in by_event[key]):
                    problems.append(f"the cancellation email of request {entry.request_id} lacks its message")
        # A message is in exactly one email to each of the other party's
        # addresses: its own, or one gathering several messages in a row.
        quoting: dict[tuple[int, str], list[str]] = defaultdict(list)
        for row in emails:
            if row.event_key.startswith("message-"):
                quoting[(row.request_id, row.recipient.lower())].append(quoted(row))
        opening_messages = set(record.cancellations.values())
        for message in messages:
            explained.add(f"message-{message.id}")
            if message.body in opening_messages:
                continue
            other = "artist" if message.author_role == "buyer" else "buyer"
            for address in people(message.request_id, other):
                found = sum(1 for text in quoting[(message.request_id, address)] if message.body in text)
                lost["emails"] += found == 0
                doubled["emails"] += max(0, found - 1)
        strays = [row for row in emails if row.event_key.split(":", 1)[0] not in explained]
        if strays:
            problems.append(f"{len(strays)} emails no step of the run explains, e.g. {strays[0].event_key}")
        db.session.remove()

    received = smtp.mailbox.by_message_id
    queued = Counter(row.message_id.strip() for row in emails)
    states = Counter(row.state for row in emails)
    missing = [mid for mid in queued if received[mid] == 0]
    repeated = [mid for mid in queued if received[mid] > 1]
    foreign = [mid for mid in received if mid not in queued]
    misdelivered = [row for row in emails if received[row.message_id.strip()]
                    and smtp.mailbox.recipients[row.message_id.strip()] != {row.recipient.lower()}]
    lost["emails"] += len(missing)
    if [mid for mid, n in queued.items() if n > 1]:
        problems.append("two outbox rows share a Message-ID")
    if repeated and not repeats_allowed:
        problems.append(f"{len(repeated)} emails reached the SMTP server more than once")
    if foreign:
        problems.append(f"{len(foreign)} emails arrived that the outbox does not know")
    if misdelivered:
        problems.append(f"{len(misdelivered)} emails reached other addresses than their outbox row's")
    if states.get("sent", 0) != len(emails):
        problems.append(f"outbox states at the end: {dict(states)}")
    for what, count in lost.items():
        if count:
            problems.append(f"{what} lost: {count}")
    for what, count in doubled.items():
        if count:
            problems.append(f"{what} stored or queued twice: {count}")
    for what, count in unanswered.items():
        if count:
            problems.append(f"{what} stored without an answer: {count}")
    return {
        "requests_answered": len(record.requests),
        "retries_answered_with_the_same_request": record.retries,
        "cancellations_answered": len(record.cancellations),
        "requests_stored": len(requests),
        "messages_answered": len(sent_messages),
        "messages_stored": len(messages),
        "photos_answered": sum(record.photos.values()),
        "photos_stored": sum(photos.values()),
        "accepts_answered": len(record.accepts),
        "emails_queued": len(emails),
        "emails_received": sum(received[mid] for mid in queued),
        "emails_retried_after_a_failure": sum(1 for row in emails if row.attempts > 1),
        "emails_missing": len(missing),
        "emails_received_twice_same_message_id": len(repeated),
        "lost": dict(lost),
        "duplicated": dict(doubled),
        "stored_without_an_answer": dict(unanswered),
        "problems": problems,
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def summarize(record: Record, seconds: float) -> dict[str, Any]:
    every = [value for values in record.latencies.values() for value in values]
    kinds = {}
    for kind in sorted(record.latencies):
        values = record.latencies[kind]
        kinds[kind] = {"requests": len(values), "p50_ms": round(percentile(values, 0.5) * 1000, 1),
                       "p95_ms": round(percentile(values, 0.95) * 1000, 1),
                       "statuses": dict(sorted(record.statuses[kind].items()))}
    return {
        "http_requests": len(every),
        "seconds": round(seconds, 1),
        "throughput_rps": round(len(every) / seconds, 1) if seconds else 0,
        "errors": record.error_count,
        "p50_ms": round(percentile(every, 0.5) * 1000, 1),
        "p95_ms": round(percentile(every, 0.95) * 1000, 1),
        "expected_refusals": dict(record.refused),
        "by_kind": kinds,
        "first_errors": record.errors,
    }


def machine() -> dict[str, str]:
    version = ""
    try:
        engine = sa.create_engine(f"{SERVER_URL}/postgres")
        with engine.connect() as connection:
            version = connection.exec_driver_sql("SHOW server_version").scalar() or ""
        engine.dispose()
    except Exception:  # noqa: BLE001 - informative only
        pass
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": str(os.cpu_count()),
            "postgresql": version}


# --------------------------------------------------------------------------- #
# The run
# --------------------------------------------------------------------------- #


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=240, help="simulated buyers")
    parser.add_argument("--artists", type=int, default=60, help="simulated artists")
    parser.add_argument("--duration", type=float, default=180, help="seconds of load")
    parser.add_argument("--outage-start", type=float, default=60, help="seconds into the run the SMTP server stops")
    parser.add_argument("--outage", type=float, default=45, help="seconds the SMTP server stays down")
    parser.add_argument("--drain", type=float, default=300, help="most seconds to wait for the outbox to empty")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--timeout", type=float, default=30, help="client timeout per HTTP request, seconds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    args = parser.parse_args()

    os.environ["LOAD_DATABASE_URL"] = DATABASE_URL
    logs = Path(os.environ.get("LOAD_LOG_DIR", "/tmp/mirette-load"))
    logs.mkdir(parents=True, exist_ok=True)

    log(f"creating database {DATABASE} and its data ({SCALE['orders']} orders, {SCALE['buyers']} buyers)")
    started = time.monotonic()
    recreate_database()
    prepare_data(args.seed)
    log(f"data ready in {time.monotonic() - started:.0f} s")

    import load_app

    app = load_app.app
    buyers, artists = find_people(app, args.buyers, args.artists)
    for person in [*buyers, *artists]:
        person.cookie = sign(app, person.account_id)
    log(f"{len(buyers)} buyers ({sum(len(b.lines) for b in buyers)} returnable lines, "
        f"{sum(len(b.cancellable) for b in buyers)} cancellable parts), {len(artists)} artists")

    smtp = SMTPServer(free_port())
    smtp.start()
    web_port = free_port()
    env = environment(smtp.port, web_port)
    web = start_web(web_port, env, logs / "gunicorn.log", args.threads)
    worker = start_worker(env, logs / "worker.log")
    base = baselines(app)
    record = Record()
    timeline: dict[str, float] = {}
    try:
        log(f"load: {len(buyers)} buyers and {len(artists)} artists for {args.duration:.0f} s on port {web_port}; "
            f"SMTP down from {args.outage_start:.0f} s for {args.outage:.0f} s")
        begin = time.monotonic()
        record.started = begin
        run = Run((web_port,), record, begin + args.duration, args.seed, args.timeout)
        threads = [threading.Thread(target=buyer, args=(run, person, n), daemon=True, name=f"buyer-{n}")
                   for n, person in enumerate(buyers)]
        threads += [threading.Thread(target=artist, args=(run, person, n), daemon=True, name=f"artist-{n}")
                    for n, person in enumerate(artists)]
        threads.append(threading.Thread(target=outage, args=(run, smtp, args.outage_start, args.outage, timeline,
                                                              begin), daemon=True, name="outage"))
        for thread in threads:
            thread.start()
        while time.monotonic() < run.ends_at:
            time.sleep(10)
            done = sum(len(v) for v in record.latencies.values())
            log(f"t={time.monotonic() - begin:5.0f} s  {done} HTTP requests, {record.error_count} errors, "
                f"{len(record.requests)} requests, {len(record.messages)} messages")
        for thread in threads:
            thread.join(timeout=args.timeout + 60)
        seconds = time.monotonic() - begin
        log("load over; draining the outbox")
        if smtp.controller is None:
            smtp.start()
        drain_started = time.monotonic()
        while time.monotonic() - drain_started < args.drain:
            waiting = pending_emails(app, base["outbox"])
            if not waiting:
                break
            log(f"{waiting} emails still waiting (retries back off a minute after a failure)")
            time.sleep(5)
        timeline["drained_after_s"] = round(time.monotonic() - drain_started, 1)
    finally:
        stop_process(worker)
        stop_process(web)
    counts = check(app, record, base, smtp)
    smtp.stop()
    figures = summarize(record, seconds)
    result = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "setup": {"buyers": len(buyers), "artists": len(artists), "duration_s": args.duration,
                  "outage_start_s": args.outage_start, "outage_s": args.outage,
                  "gunicorn": f"2 workers, gthread, {args.threads} threads", "scale": SCALE},
        "timeline": timeline,
        "figures": figures,
        "counts": counts,
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print_report(result)
    return 0 if not counts["problems"] and not figures["errors"] else 1


def print_report(result: dict[str, Any]) -> None:
    figures, counts = result["figures"], result["counts"]
    print()
    print(f"Load test, {result['date']}: {result['setup']['buyers']} buyers + {result['setup']['artists']} artists, "
          f"{figures['seconds']} s, SMTP down {result['timeline'].get('smtp_stopped_at')}"
          f"-{result['timeline'].get('smtp_started_at')} s")
    print(f"  throughput  {figures['throughput_rps']} requests/s ({figures['http_requests']} HTTP requests)")
    print(f"  errors      {figures['errors']}")
    print(f"  latency     p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms")
    print(f"  {'kind':<16} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8}  statuses")
    for kind, row in figures["by_kind"].items():
        print(f"  {kind:<16} {row['requests']:>8} {row['p50_ms']:>8} {row['p95_ms']:>8}  {row['statuses']}")
    print(f"  refused as expected: {figures['expected_refusals']}")
    print("  exactly once:")
    for name, value in counts.items():
        if name != "problems":
            print(f"    {name:<42} {value}")
    print(f"  outbox drained {result['timeline'].get('drained_after_s')} s after the load")
    if counts["problems"]:
        print("  PROBLEMS:")
        for problem in counts["problems"][:30]:
            print(f"    {problem}")
    if figures["first_errors"]:
        print("  first errors:")
        for error in figures["first_errors"]:
            print(f"    {error}")
    print("  verdict: " + ("nothing lost, nothing doubled" if not counts["problems"] else "FAILED"))


if __name__ == "__main__":
    sys.exit(main())
