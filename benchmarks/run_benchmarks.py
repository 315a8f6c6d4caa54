"""Load test of the plugin's busiest pages, beside a same-work page and a bare Flask page.

For each scale (1,000 and 200,000 requests by default) this script:

1. creates a dedicated PostgreSQL database (``mirette_bench_<scale>``; any
   existing one of that name is dropped) and fills it with
   ``benchmarks/generate_data.py`` (``benchmarks/marketplace``);
2. serves the demo shop (``bench_app.py``) and the bare baseline
   (``baseline_app.py``) with gunicorn, 2 sync workers each, on 127.0.0.1;
3. signs each role in with a session cookie signed by the app's own session
   interface, and takes a real CSRF token and the poll's key from a
   rendered page;
4. captures the plugin's page of every measured URL and serves the
   same-work pages (``same_work_app.py``) made from them;
5. runs every URL once through the Flask test client to count its SQL
   statements and CPU time, and once over HTTP to measure its response size;
6. measures each page with wrk (plugin, same-work, bare, page after page, so
   all see the same machine load) and prints requests per second, p50, p95,
   both ratios, statements and bytes;
7. reads the plugin workers' memory (VmRSS) before and after 10,000 more
   requests;
8. with ``--compare-ref``, serves that commit beside this checkout and
   compares each page's CPU per request.

Then it compares the scales and checks the targets (``report.py``), writes
``benchmarks/results.json`` and, with ``--write-readme``, the results section
of ``benchmarks/README.md``.

Usage (from the repository root)::

    .venv/bin/python benchmarks/run_benchmarks.py --scales 1k --compare-ref HEAD~1 --write-readme
"""

from __future__ import annotations

import argparse
import html as html_module
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import sqlalchemy as sa  # noqa: E402
from report import MEMORY_REQUESTS, report, write_readme  # noqa: E402

#: How much data each scale holds (``generate_data.py`` options).
SCALES: dict[str, dict[str, int]] = {
    "1k": {"orders": 500, "requests": 1_000, "messages": 5_000, "artists": 20, "busiest": 100},
    "200k": {"orders": 100_000, "requests": 200_000, "messages": 1_000_000, "artists": 1_000, "busiest": 20_000},
}
SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"
DATABASE_PREFIX = "mirette_bench_"
BIN = Path(sys.executable).parent
#: How deep the "deep" inbox page is, as a share of the busiest artist's requests.
DEEP_SHARE = 0.95
POST_BODY = "Thank you, I will send the parcel back tomorrow morning."



@dataclass
class Page:
    """One page measured: the plugin's URL, the same-work page's and the bare baseline's."""

    key: str
    title: str
    plugin: str
    baseline: str
    #: Who is signed in: buyer, artist or support.
    role: str
    method: str = "GET"
    expect: int = 200
    #: The same work in a bare Flask page (``same_work_app``), if there is one.
    same: str | None = None
    #: One more request header, "Name: value" (the poll's key).
    header: str = ""


@dataclass
class Result:
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    statements: int | None = None
    #: The statements of the page's first view (nothing of it kept yet).
    first_statements: int | None = None
    bytes: int | None = None
    status: int | None = None
    #: In-process cost of one request (see ``measure_in_process``).
    cpu_ms: float | None = None
    wall_ms: float | None = None


@dataclass
class ScaleRun:
    scale: str
    options: dict[str, int]
    generate_seconds: float | None
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] | None = None
    #: 1-minute load average at the start of each measuring round.
    round_loads: list[float] = field(default_factory=list)
    plugin: dict[str, Result] = field(default_factory=dict)
    baseline: dict[str, Result] = field(default_factory=dict)
    same: dict[str, Result] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    #: SQL statements of the details page of a short thread (the long one's are in ``plugin``).
    short_thread_statements: int | None = None
    short_thread_first_statements: int | None = None
    #: Substitutions of each same-work page (``same_work_app``).
    substitutions: dict[str, int] = field(default_factory=dict)
    #: CPU per request of the previous code beside this one (``--compare-ref``).
    compared: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- #
# Database and data
# --------------------------------------------------------------------------- #


def database_url(scale: str) -> str:
    return f"{SERVER_URL}/{DATABASE_PREFIX}{scale}"


def recreate_database(scale: str) -> None:
    name = f"{DATABASE_PREFIX}{scale}"
    assert re.fullmatch(r"mirette_bench_[a-z0-9]+", name), name
    engine = sa.create_engine(f"{SERVER_URL}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()


def generate_command(scale: str, summary: Path) -> list[str]:
    command = [sys.executable, "benchmarks/generate_data.py"]
    for option, value in SCALES[scale].items():
        command += [f"--{option}", str(value)]
    return [*command, "--summary", str(summary)]


def generate(scale: str, summary: Path) -> float:
    env = {**os.environ, "DEMO_DATABASE_URL": database_url(scale), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    subprocess.run(generate_command(scale, summary), env=env, cwd=ROOT, check=True)
    return time.monotonic() - started


# --------------------------------------------------------------------------- #
# Signing in, URLs
# --------------------------------------------------------------------------- #


@dataclass
class Session:
    cookie: str
    csrf_token: str = ""


def plugin_app(scale: str):
    from bench_app import bench_config

    from mirette_returns_plugin.demo import create_app

    return create_app(bench_config(database_url(scale)))


def forge_cookie(app, account_id: int) -> str:
    """A session cookie signed in as ``account_id``, as the demo's sign-in page sets it."""
    value = app.session_interface.get_signing_serializer(app).dumps({"account_id": account_id})
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def find_landmarks(app, summary: dict[str, Any]) -> dict[str, Any]:
    """Account ids, the long thread's version, and the cursor of a deep inbox page."""
    from mirette_returns_plugin.demo.models import Account, db
    from mirette_returns_plugin.models import Request
    from mirette_returns_plugin.views.listing import encode_cursor

    with app.app_context():
        def account_id(email: str) -> int:
            return db.session.scalar(sa.select(Account.id).where(Account.email == email))

        artist_ref = summary["busiest_artist_ref"]
        total = db.session.scalar(sa.select(sa.func.count()).where(Request.artist_ref == artist_ref))
        page_size = app.config["MIRETTE_RETURNS_PAGE_SIZE"]
        start = max(page_size, int(total * DEEP_SHARE) // page_size * page_size)
        before_deep = db.session.scalars(
            sa.select(Request).where(Request.artist_ref == artist_ref)
            .order_by(Request.last_activity_at.desc(), Request.id.desc()).offset(start - 1).limit(1)
        ).one()
        found = {
            "buyer_id": account_id(summary["long_thread_buyer_email"]),
            "artist_id": account_id(summary["busiest_artist_email"]),
            "support_id": account_id(summary["support_email"]),
            "artist_requests": total,
            "deep_page_start": start,
            "deep_cursor": encode_cursor(before_deep),
        }
        db.session.remove()
        db.engine.dispose()
    return found


def pages_for(summary: dict[str, Any], marks: dict[str, Any], news_path: str, poll_header: str) -> list[Page]:
    long_id, post_id = summary["long_thread_request_id"], summary["post_request_id"]
    artist = summary["busiest_artist_ref"]
    deep = "after=" + urllib.parse.quote(marks["deep_cursor"], safe="")
    version = urllib.parse.parse_qs(urllib.parse.urlsplit(news_path).query).get("after", ["0"])[0]
    return [
        Page("details", "See details, 50-message thread", f"/returns/requests/{long_id}",
             f"/baseline/requests/{long_id}", "buyer", same=f"/same/requests/{long_id}"),
        Page("inbox_first", "Busiest artist's inbox, first page", "/returns/artist/inbox",
             f"/baseline/artist/{artist}/inbox", "artist", same="/same/artist/inbox"),
        Page("inbox_deep", f"Busiest artist's inbox, deep page (row {marks['deep_page_start']:,})",
             f"/returns/artist/inbox?{deep}", f"/baseline/artist/{artist}/inbox?{deep}", "artist",
             same=f"/same/artist/inbox?{deep}"),
        Page("support_status", "Support list, filter status=requested", "/returns/support/requests?status=requested",
             "/baseline/support/requests?status=requested", "support", same="/same/support/requests?status=requested"),
        Page("support_escalated", "Support list, filter escalated", "/returns/support/requests?escalated=1",
             "/baseline/support/requests?escalated=1", "support", same="/same/support/requests?escalated=1"),
        Page("poll", "Poll, nothing new (vs bare 204 endpoint)", news_path, "/baseline/empty", "buyer",
             expect=204, same=f"/same/requests/{long_id}/news?after={version}", header=poll_header),
        Page("post", "Post a message", f"/returns/requests/{post_id}/messages",
             f"/baseline/requests/{post_id}/messages", "buyer", method="POST", expect=303),
    ]


# --------------------------------------------------------------------------- #
# Servers
# --------------------------------------------------------------------------- #


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(name: str, module: str, scale: str, log_dir: Path, *, env_extra: dict[str, str] | None = None,
                 code_root: Path = ROOT, worker_args: tuple[str, ...] = ()) -> Server:
    """gunicorn serving ``module:app``; ``code_root``: the checkout the plugin is imported from."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "--workers", "2", *worker_args, "--bind", f"127.0.0.1:{port}",
               "--no-control-socket", "--log-level", "warning", "--timeout", "60", f"{module}:app"]
    env = {**os.environ, "BENCH_DATABASE_URL": database_url(scale), **(env_extra or {}),
           "PYTHONPATH": os.pathsep.join([str(code_root), str(HERE)])}
    log = open(log_dir / f"{name}-{scale}.log", "w")  # noqa: SIM115 - the server writes to it until it stops
    process = subprocess.Popen(command, env=env, cwd=HERE, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, port, process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} server exited; see {log.name}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            if len(server.workers()) == 2:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"{name} server did not start; see {log.name}")


# --------------------------------------------------------------------------- #
# Measuring
# --------------------------------------------------------------------------- #


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, cookie: str = "", data: bytes | None = None, more: list[str] | None = None
          ) -> tuple[int, bytes, str]:
    """One request over HTTP: status, body, and the session cookie it set (if any).

    ``more``: headers, each "Name: value"."""
    headers = {"Cookie": cookie} if cookie else {}
    for header in more or ():
        name, _colon, value = header.partition(":")
        headers[name] = value.strip()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        response = OPENER.open(request, timeout=60)
    except urllib.error.HTTPError as error:
        response = error
    body = response.read()
    set_cookie = response.headers.get("Set-Cookie", "")
    return response.status, body, set_cookie.split(";", 1)[0]


def sign_in(app, server: Server, marks: dict[str, Any], long_id: int) -> tuple[dict[str, Session], str, str]:
    """A session per role; the buyer's carries a CSRF token, taken from a rendered page.

    Also returns the poll's path and its key's header ("Name: value").
    """
    sessions = {
        "buyer": Session(forge_cookie(app, marks["buyer_id"])),
        "artist": Session(forge_cookie(app, marks["artist_id"])),
        "support": Session(forge_cookie(app, marks["support_id"])),
    }
    news_path, header = open_details(server, sessions["buyer"], long_id)
    return sessions, news_path, header


def open_details(server: Server, session: Session, long_id: int) -> tuple[str, str]:
    """Open the details page as ``session`` (keeping the cookie and CSRF token it gives):
    the poll's path and its key's header, which expires after a few minutes."""
    status, body, set_cookie = fetch(f"{server.base}/returns/requests/{long_id}", session.cookie)
    if status != 200:
        raise RuntimeError(f"the details page answered {status}: {body[:500]!r}")
    html = body.decode()
    token = re.search(r'name="csrf_token"\s+value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"\s+name="csrf_token"', html)
    if set_cookie:
        session.cookie = set_cookie
    session.csrf_token = token.group(1) if token else ""
    news = re.search(r'hx-get="([^"]*/news\?[^"]*)"', html)
    news_path = news.group(1).replace("&amp;", "&") if news else f"/returns/requests/{long_id}/news"
    headers = re.search(r'hx-headers="([^"]*)"', html)
    header = ""
    if headers:
        (name, value), = json.loads(html_module.unescape(headers.group(1))).items()
        header = f"{name}: {value}"
    return news_path, header


def post_body(session: Session) -> str:
    return urllib.parse.urlencode({"body": POST_BODY, "csrf_token": session.csrf_token})


@dataclass
class Cost:
    """What one request costs in-process (Flask test client, no HTTP, no concurrency)."""

    statements: int
    cpu_ms: float
    wall_ms: float
    #: The statements of the first request, before anything was kept (see fragments).
    first_statements: int = 0


def measure_in_process(app, engine, page: Page, path: str, cookie: str, body: str, header: str = "",
                       repeat: int = 20) -> Cost:
    """SQL statements of the first request and of the next one (pieces of
    the page kept by then), then CPU and wall time over ``repeat``.

    CPU time is the process's own (the database server's is not in it): it
    moves much less with the machine's load than wall time does.
    """
    counted = []

    def listener(*_args):
        counted.append(1)

    client = app.test_client(use_cookies=False)
    headers = {"Cookie": cookie} if cookie else {}
    if header:
        name, _colon, value = header.partition(":")
        headers[name] = value.strip()

    def once():
        if page.method == "POST":
            client.post(path, data=body, headers=headers, content_type="application/x-www-form-urlencoded")
        else:
            client.get(path, headers=headers)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        once()
        first = len(counted)
        counted.clear()
        once()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    cpu, wall = time.process_time(), time.perf_counter()
    for _attempt in range(repeat):
        once()
    return Cost(len(counted), (time.process_time() - cpu) * 1000 / repeat,
                (time.perf_counter() - wall) * 1000 / repeat, first)


def wrk(base: str, paths: list[str], cookie: str, body: str, seconds: float, connections: int,
        header: str = "") -> Result:
    env = {**os.environ, "BENCH_PATHS": " ".join(paths), "BENCH_COOKIE": cookie, "BENCH_BODY": body,
           "BENCH_HEADER": header}
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
               "-s", str(HERE / "wrk" / "bench.lua"), base]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    data = json.loads(line[len("BENCH_JSON "):])
    latency = data["latency_us"]
    return Result(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=latency["p50"] / 1000, p95_ms=latency["p95"] / 1000, p99_ms=latency["p99"] / 1000,
        requests=data["requests"], errors={k: v for k, v in data["errors"].items() if v},
    )


def combine(slices: list[Result]) -> Result:
    """One result from several slices: total throughput, median of each percentile."""
    def median(values: list[float]) -> float:
        ordered = sorted(values)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

    errors: dict[str, int] = {}
    for part in slices:
        for name, value in part.errors.items():
            errors[name] = errors.get(name, 0) + value
    requests = sum(part.requests for part in slices)
    seconds = sum(part.requests / part.rps for part in slices if part.rps)
    return Result(rps=requests / seconds if seconds else 0.0, p50_ms=median([p.p50_ms for p in slices]),
                  p95_ms=median([p.p95_ms for p in slices]), p99_ms=median([p.p99_ms for p in slices]),
                  requests=requests, errors=errors)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Side:
    """One app a page is measured on: its name, server, path, cookie and extra header."""

    name: str
    server: Server
    path: str
    cookie: str
    header: str = ""


@dataclass
class Target:
    """One scale, ready to measure: its servers, sessions and pages."""

    run: ScaleRun
    app: Any
    baseline_app: Any
    same_app: Any
    plugin_server: Server
    baseline_server: Server
    same_server: Server | None
    sessions: dict[str, Session]
    pages: list[Page]
    long_id: int = 0
    #: When the poll's key was last renewed (it expires after a few minutes).
    key_at: float = 0.0

    def sides(self, page: Page) -> tuple[str, list[Side]]:
        session = self.sessions[page.role]
        body = post_body(session) if page.method == "POST" else ""
        method = "POST:" if page.method == "POST" else ""
        found = [Side("plugin", self.plugin_server, f"{method}{page.plugin}", session.cookie, page.header)]
        if page.same and self.same_server:
            found.append(Side("same", self.same_server, page.same, session.cookie))
        found.append(Side("baseline", self.baseline_server, f"{method}{page.baseline}", ""))
        return body, found

    def renew_poll_key(self) -> None:
        """A new key for the poll when the last is more than two minutes old."""
        if time.monotonic() - self.key_at < 120:
            return
        news_path, header = open_details(self.plugin_server, self.sessions["buyer"], self.long_id)
        for page in self.pages:
            if page.key == "poll":
                page.plugin, page.header = news_path, header
        self.key_at = time.monotonic()


def capture_pages(target: Target, path: Path) -> dict[str, str]:
    """The plugin's HTML of every page that has a same-work page, for ``same_work_app``."""
    captured = {}
    for page in target.pages:
        if page.same and page.method == "GET" and page.key != "poll":
            status, body, _cookie = fetch(target.plugin_server.base + page.plugin, target.sessions[page.role].cookie)
            if status == 200:
                captured[page.key] = body.decode()
    path.write_text(json.dumps(captured), encoding="utf-8")
    return captured


def prepare_scale(scale: str, args: argparse.Namespace, work: Path) -> Target:
    """Data, servers, sessions, and the in-process figures of every page."""
    summary_path = work / f"{scale}-summary.json"
    timing_path = work / f"{scale}-generated.json"
    if not (args.reuse_data and summary_path.exists()):
        print(f"\n== {scale}: generating data into {DATABASE_PREFIX}{scale}", flush=True)
        recreate_database(scale)
        seconds = generate(scale, summary_path)
        timing_path.write_text(json.dumps({"seconds": seconds, "load": os.getloadavg()}))
    seconds = json.loads(timing_path.read_text())["seconds"] if timing_path.exists() else None
    summary = json.loads(summary_path.read_text())
    run = ScaleRun(scale, SCALES[scale], seconds, os.getloadavg())
    app = plugin_app(scale)
    marks = find_landmarks(app, summary)
    from baseline_app import create_app as create_baseline
    from bench_app import SECRET_KEY
    from same_work_app import create_app as create_same_work

    baseline_app = create_baseline(database_url(scale))
    plugin_server = start_server("plugin", "bench_app", scale, work)
    baseline_server = start_server("baseline", "baseline_app", scale, work)
    long_id = summary["long_thread_request_id"]
    target = Target(run, app, baseline_app, None, plugin_server, baseline_server, None, {}, [], long_id)
    try:
        target.sessions, news_path, poll_header = sign_in(app, plugin_server, marks, long_id)
        target.key_at = time.monotonic()
        target.pages = pages_for(summary, marks, news_path, poll_header)
        skeletons_path = work / f"{scale}-pages.json"
        skeletons = capture_pages(target, skeletons_path)
        target.same_app = create_same_work(database_url(scale), SECRET_KEY, skeletons)
        target.same_server = start_server("same", "same_work_app", scale, work,
                                          env_extra={"BENCH_SKELETONS": str(skeletons_path)})
        from mirette_returns_plugin.demo.models import db

        with app.app_context():
            plugin_engine = db.engine
        engines = {"plugin": (app, plugin_engine),
                   "same": (target.same_app, target.same_app.extensions["same_work_engine"]),
                   "baseline": (baseline_app, baseline_app.extensions["baseline_engine"])}
        for page in target.pages:
            body, sides = target.sides(page)
            for side in sides:
                path = side.path.removeprefix("POST:")
                result = Result()
                headers = [side.header] if side.header else []
                status, content, _cookie = fetch(side.server.base + path, side.cookie,
                                                 body.encode() if body else None, headers)
                result.status, result.bytes = status, len(content)
                if status != page.expect:
                    run.problems.append(f"{side.name} {page.key}: HTTP {status} (expected {page.expect}): "
                                        f"{content[:300]!r}")
                cost = measure_in_process(*engines[side.name], page, path, side.cookie, body, side.header)
                result.statements, result.cpu_ms, result.wall_ms = cost.statements, cost.cpu_ms, cost.wall_ms
                result.first_statements = cost.first_statements
                getattr(run, side.name)[page.key] = result
        short = Page("details_short", "", f"/returns/requests/{summary['post_request_id']}", "", "buyer")
        # Read once over HTTP first, as every page above: the posts measured
        # before left news on this thread, and the first view after news
        # writes the buyer's "seen" mark, a statement that has nothing to do
        # with the thread's length.
        fetch(plugin_server.base + short.plugin, target.sessions["buyer"].cookie, None, [])
        short_cost = measure_in_process(
            app, plugin_engine, short, short.plugin, target.sessions["buyer"].cookie, "", repeat=1)
        run.short_thread_statements = short_cost.statements
        run.short_thread_first_statements = short_cost.first_statements
        for key, skeleton in target.same_app.extensions["same_work_skeletons"].items():
            run.substitutions[key] = skeleton.substitutions
    except BaseException:
        stop(target)
        raise
    return target


def measure_pages(targets: list[Target], args: argparse.Namespace) -> None:
    """wrk on every page of every scale, plugin, same-work and bare baseline, in alternating slices.

    One slice of each (scale, page, side) per round: a change in the
    machine's load during the run falls on all of them alike.
    """
    for target in targets:
        for page in target.pages:
            target.renew_poll_key()
            body, sides = target.sides(page)
            for side in sides:
                wrk(side.server.base, [side.path], side.cookie, body, 2, args.connections, side.header)  # warm-up
    slices: dict[tuple[str, str, str], list[Result]] = {}
    for number in range(args.rounds):
        load = os.getloadavg()[0]
        print(f"round {number + 1}/{args.rounds}, load average {load:.2f}", flush=True)
        for target in targets:
            target.run.round_loads.append(load)
        for page_index in range(max(len(t.pages) for t in targets)):
            for target in targets:
                page = target.pages[page_index]
                target.renew_poll_key()
                body, sides = target.sides(page)
                for side in sides:
                    slices.setdefault((target.run.scale, page.key, side.name), []).append(
                        wrk(side.server.base, [side.path], side.cookie, body, args.duration / args.rounds,
                            args.connections, side.header))
    for target in targets:
        for page in target.pages:
            for side in ("plugin", "same", "baseline"):
                if (target.run.scale, page.key, side) not in slices:
                    continue
                measured = combine(slices[(target.run.scale, page.key, side)])
                kept = getattr(target.run, side)[page.key]
                for name in ("statements", "first_statements", "bytes", "status", "cpu_ms", "wall_ms"):
                    setattr(measured, name, getattr(kept, name))
                getattr(target.run, side)[page.key] = measured
                print(f"{target.run.scale:>5} {side:8} {page.key:18} {measured.rps:8.1f} req/s"
                      f"  p50 {measured.p50_ms:7.1f} ms  p95 {measured.p95_ms:7.1f} ms"
                      f"  cpu {measured.cpu_ms:6.2f} ms  {measured.errors or ''}", flush=True)


def stop(target: Target) -> None:
    for server in (target.plugin_server, target.baseline_server, target.same_server):
        if server:
            server.stop()
    from mirette_returns_plugin.demo.models import db

    with target.app.app_context():
        db.session.remove()
        db.engine.dispose()
    target.baseline_app.extensions["baseline_engine"].dispose()
    if target.same_app:
        target.same_app.extensions["same_work_engine"].dispose()


def measure_memory(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Worker RSS before and after ``MEMORY_REQUESTS`` more requests, every page in turn."""
    server, pages, sessions = target.plugin_server, target.pages, target.sessions
    workers = server.workers()
    before = {pid: rss_kb(pid) for pid in workers}
    served = 0
    deadline = time.monotonic() + 1800
    while served < MEMORY_REQUESTS and time.monotonic() < deadline:
        for page in pages:
            target.renew_poll_key()
            session = sessions[page.role]
            path = f"POST:{page.plugin}" if page.method == "POST" else page.plugin
            body = post_body(session) if page.method == "POST" else ""
            served += wrk(server.base, [path], session.cookie, body, 2, args.connections, page.header).requests
    after_workers = server.workers()
    after = {pid: rss_kb(pid) for pid in after_workers}
    return {
        "requests": served,
        "workers_restarted": sorted(workers) != sorted(after_workers),
        "before_kb": before,
        "after_kb": after,
        "growth": max(((after.get(pid, 0) - kb) / kb for pid, kb in before.items() if kb), default=0.0),
    }


# --------------------------------------------------------------------------- #
# Reporting
# --------------------------------------------------------------------------- #

def machine() -> dict[str, str]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory = next((line.split(":", 1)[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "")
    postgres = ""
    try:
        engine = sa.create_engine(f"{SERVER_URL}/postgres")
        with engine.connect() as connection:
            postgres = connection.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
    except sa.exc.OperationalError:
        pass
    versions = {}
    for tool, command in (("wrk", ["wrk", "-v"]), ("gunicorn", [str(BIN / "gunicorn"), "--version"])):
        found = subprocess.run(command, capture_output=True, text=True)
        versions[tool] = (found.stdout + found.stderr).strip().splitlines()[0] if (found.stdout + found.stderr) else ""
    return {
        "cpus": str(os.cpu_count()),
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "cpu": model,
        "memory": memory,
        "postgresql": postgres,
        "python": platform.python_version(),
        **versions,
    }


def commands(runs: list[ScaleRun], args: argparse.Namespace) -> list[str]:
    """The commands this run ran, for the report."""
    found = [f"{Path(sys.executable)} benchmarks/run_benchmarks.py --scales {','.join(r.scale for r in runs)} "
             f"--duration {args.duration:g} --rounds {args.rounds} --connections {args.connections}"
             f"{' --compare-ref ' + args.compare_ref if args.compare_ref else ''}"
             f"{' --write-readme' if args.write_readme else ''}",
             "# which, for each scale, runs:"]
    for run in runs:
        summary = Path(tempfile.gettempdir()) / "mirette-bench" / f"{run.scale}-summary.json"
        found.append(f"DEMO_DATABASE_URL={database_url(run.scale)} {' '.join(generate_command(run.scale, summary))}")
    return [
        *found,
        "cd benchmarks && BENCH_DATABASE_URL=<database> gunicorn --workers 2 --bind 127.0.0.1:<port> "
        "--no-control-socket bench_app:app       # and baseline_app:app, same_work_app:app (BENCH_SKELETONS=<pages>)",
        "BENCH_PATHS=<path> BENCH_COOKIE='session=<signed>' [BENCH_HEADER=<poll key>] [BENCH_BODY=<form>] "
        f"wrk -t 2 -c {args.connections} -d <seconds>s --timeout 10s -s benchmarks/wrk/bench.lua "
        "http://127.0.0.1:<port>",
    ]


# --------------------------------------------------------------------------- #
# Before and after: the previous code served beside this one
# --------------------------------------------------------------------------- #


def worker_cpu_seconds(server: Server) -> float:
    """User and system CPU time of the server's workers so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in server.workers():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def compare_ref(target: Target, ref: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Serve ``ref`` (a git worktree of it) beside this checkout on the same database, and measure
    each page's CPU per request on both, in alternating slices."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    tree = work / f"ref-{sha}"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), sha], cwd=ROOT, check=True,
                       capture_output=True)
    old = start_server(f"ref-{sha}", "bench_app", target.run.scale, work, code_root=tree)
    found: dict[str, Any] = {"ref": ref if sha.startswith(ref) else f"{ref} ({sha})", "seconds": args.duration,
                             "rounds": args.rounds, "pages": {}}
    try:
        sides = {"before": old, "after": target.plugin_server}
        totals = {(page.key, name): [0.0, 0, 0.0] for page in target.pages for name in sides}
        for _round in range(args.rounds):
            for page in target.pages:
                target.renew_poll_key()
                session = target.sessions[page.role]
                body = post_body(session) if page.method == "POST" else ""
                path = f"POST:{page.plugin}" if page.method == "POST" else page.plugin
                for name, server in sides.items():
                    cpu = worker_cpu_seconds(server)
                    result = wrk(server.base, [path], session.cookie, body, args.duration / args.rounds,
                                 args.connections, page.header)
                    total = totals[(page.key, name)]
                    total[0] += worker_cpu_seconds(server) - cpu
                    total[1] += result.requests
                    total[2] += result.requests / result.rps if result.rps else 0
        for page in target.pages:
            found["pages"][page.key] = {
                name: {"cpu_ms": 1000 * cpu / requests if requests else 0.0,
                       "rps": requests / seconds if seconds else 0.0}
                for name in sides for cpu, requests, seconds in [totals[(page.key, name)]]}
    finally:
        old.stop()
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1k,200k", help="comma-separated, from: " + ", ".join(SCALES))
    parser.add_argument("--duration", type=float, default=10, help="seconds of wrk per URL [10]")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections [16]")
    parser.add_argument("--rounds", type=int, default=5,
                        help="slices each page's duration is cut in, alternating plugin and baseline [5]")
    parser.add_argument("--reuse-data", action="store_true",
                        help="keep a database generated by an earlier run of this script")
    parser.add_argument("--write-readme", action="store_true", help="write the results into benchmarks/README.md")
    parser.add_argument("--compare-ref", metavar="REF",
                        help="also serve this git ref (a worktree of it) beside this checkout, on the first scale's "
                             "data, and compare each page's CPU per request")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    work = Path(tempfile.gettempdir()) / "mirette-bench"
    work.mkdir(exist_ok=True)
    started = datetime.now(timezone.utc)
    scales = args.scales.split(",")
    for scale in scales:
        if scale not in SCALES:
            sys.exit(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
    targets: list[Target] = []
    try:
        for scale in scales:
            targets.append(prepare_scale(scale, args, work))
        measure_pages(targets, args)
        for target in targets:
            print(f"{target.run.scale}: worker memory over {MEMORY_REQUESTS:,} requests", flush=True)
            target.run.memory = measure_memory(target, args)
            target.run.load_after = os.getloadavg()
        if args.compare_ref and targets:
            print(f"{targets[0].run.scale}: {args.compare_ref} beside this checkout", flush=True)
            targets[0].run.compared = compare_ref(targets[0], args.compare_ref, args, work)
    finally:
        for target in targets:
            stop(target)
    runs = [target.run for target in targets]
    info = machine()
    text = report(runs, info, args, started, commands(runs, args))
    print("\n" + text)
    (HERE / "results.json").write_text(json.dumps({
        "started": started.isoformat(), "machine": info, "duration": args.duration,
        "connections": args.connections, "runs": [asdict(run) for run in runs],
    }, indent=2, default=str) + "\n", encoding="utf-8")
    if args.write_readme:
        write_readme(HERE / "README.md", text)


if __name__ == "__main__":
    main()
