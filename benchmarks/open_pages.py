"""Many open pages: thousands of details pages polling while artists and buyers work.

A marketplace's evening: every buyer who left a details page open polls it
every 10 seconds, 50 artists work through their inboxes and 100 buyers post
messages, all against the demo shop under gunicorn (2 gthread workers of 4
threads, see ``WORKERS``) on 127.0.0.1. The people are simulated by
``open_loop``, each on its own schedule whatever the server's answers:

- open pages: ``pages / 10`` polls per second, each with the key its page
  gave it (200 different pages and sessions, cycled), spread over at most
  200 kept-alive connections;
- artists: 50, each opening the inbox's first page every 3 s (on average);
- buyers: 100, each posting a message every 20 s (on average).

The number of open pages is stepped up (250, 500, 1,000, 2,000, then
doubling while the p95 of every kind stays under 100 ms, at most 16,000),
each step a bounded run; the report gives p50 and p95 per kind of page at
each step and the largest number of open pages for which every p95 stayed
under 100 ms. It uses the database of a ``run_benchmarks.py`` run (the 1k
scale by default)::

    .venv/bin/python benchmarks/run_benchmarks.py --scales 1k      # once, for the data
    .venv/bin/python benchmarks/open_pages.py --scale 1k --seconds 30
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.parse
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import sqlalchemy as sa  # noqa: E402
from open_loop import Call, Lane, run  # noqa: E402
from run_benchmarks import (  # noqa: E402
    POST_BODY,
    Server,
    Session,
    database_url,
    forge_cookie,
    open_details,
    plugin_app,
    start_server,
)

POLL_SECONDS = 10
ARTISTS = 50
ARTIST_PERIOD = 3.0
BUYERS = 100
BUYER_PERIOD = 20.0
#: Different open pages (each a session and a key of its own) the polls cycle through.
DISTINCT_PAGES = 200
#: Connections the open pages' polls share, at most.
MOST_POLL_LANES = 200
STEPS = (250, 500, 1000, 2000)
MOST_PAGES = 16_000
P95_LIMIT_MS = 100.0
#: Threaded workers: thousands of open pages keep connections open between
#: two requests, and a sync worker would sit on each idle one (only a
#: buffering proxy in front of sync workers avoids that); a gthread worker
#: waits on them all at once and runs a request as it arrives. Idle
#: connections are kept as long as a browser keeps them (75 s), longer than
#: the pause between two requests of one person.
WORKERS = ("--worker-class", "gthread", "--threads", "4", "--keep-alive", "75")


@dataclass
class Step:
    open_pages: int
    #: Per kind of page: requests per second, p50 and p95 ms, errors.
    kinds: dict[str, dict]

    def within(self) -> bool:
        return all(kind["requests"] and kind["p95_ms"] < P95_LIMIT_MS and not kind["errors"]
                   for kind in self.kinds.values())


def people(app, wanted: int) -> tuple[list[int], list[tuple[int, int]]]:
    """Artist account ids, and ``(buyer account id, request id)`` of open requests, one per buyer first."""
    from mirette_returns_plugin.demo.models import Account, db
    from mirette_returns_plugin.models import Request

    with app.app_context():
        artists = list(db.session.scalars(
            sa.select(Account.id).where(Account.artist_id.is_not(None)).order_by(Account.id)))
        rows = db.session.execute(
            sa.select(Request.buyer_ref, Request.id).where(Request.closed_at.is_(None))
            .order_by(Request.last_activity_at.desc()).limit(wanted * 4)).all()
        db.session.remove()
        db.engine.dispose()
    seen, first, rest = set(), [], []
    for buyer_ref, request_id in rows:
        (rest if buyer_ref in seen else first).append((int(buyer_ref), request_id))
        seen.add(buyer_ref)
    return artists, first + rest


def poll_calls(app, server: Server, pairs: list[tuple[int, int]]) -> list[Call]:
    """Open each page once (as its buyer): its poll, with the session and key it gave."""
    calls = []
    for buyer_id, request_id in pairs[BUYERS:BUYERS + DISTINCT_PAGES]:
        session = Session(forge_cookie(app, buyer_id))
        news_path, header = open_details(server, session, request_id)
        calls.append(Call("GET", news_path, session.cookie, header))
    return calls


def buyer_calls(app, server: Server, pairs: list[tuple[int, int]]) -> list[Call]:
    """A message to post, per buyer, with the CSRF token of the buyer's page."""
    calls = []
    for buyer_id, request_id in pairs[:BUYERS]:
        session = Session(forge_cookie(app, buyer_id))
        open_details(server, session, request_id)
        body = urllib.parse.urlencode({"body": POST_BODY, "csrf_token": session.csrf_token})
        calls.append(Call("POST", f"/returns/requests/{request_id}/messages", session.cookie, "", body))
    return calls


def measure_step(server: Server, polls: list[Call], posts: list[Call], artists: list[Call], open_pages: int,
                 seconds: int) -> Step:
    lanes_of_polls = min(open_pages, MOST_POLL_LANES)
    lanes = [Lane("poll", polls[number::lanes_of_polls] or polls[:1], POLL_SECONDS * lanes_of_polls / open_pages)
             for number in range(lanes_of_polls)]
    lanes += [Lane("inbox", [artists[number % len(artists)]], ARTIST_PERIOD) for number in range(ARTISTS)]
    lanes += [Lane("post", [call], BUYER_PERIOD) for call in posts]
    tallies = run(lanes, server.port, seconds, seed=open_pages)
    kinds = {}
    for kind, tally in tallies.items():
        errors = {str(status): n for status, n in tally.statuses.items() if status >= 400}
        if tally.failures:
            errors["failed"] = tally.failures
        kinds[kind] = {"rps": len(tally.latencies_ms) / seconds, "requests": len(tally.latencies_ms),
                       "p50_ms": tally.percentile(0.5), "p95_ms": tally.percentile(0.95), "errors": errors,
                       "latest_start_ms": tally.late_ms}
    kinds["poll"]["intended_rps"] = open_pages / POLL_SECONDS
    return Step(open_pages, kinds)


def table(steps: list[Step]) -> list[str]:
    lines = ["| Open pages | polls/s intended (done) | poll p50 / p95 ms | inbox req/s, p50 / p95 ms | "
             "posts/s, p50 / p95 ms | every p95 < 100 ms |",
             "| ---: | ---: | ---: | ---: | ---: | --- |"]
    for step in steps:
        poll, inbox, post = step.kinds["poll"], step.kinds["inbox"], step.kinds["post"]
        errors = "; ".join(f"{name}: {kind['errors']}" for name, kind in step.kinds.items() if kind["errors"])
        lines.append(
            f"| {step.open_pages:,} | {poll['intended_rps']:.0f} ({poll['rps']:.0f}) | "
            f"{poll['p50_ms']:.1f} / {poll['p95_ms']:.1f} | {inbox['rps']:.0f}, {inbox['p50_ms']:.1f} / "
            f"{inbox['p95_ms']:.1f} | {post['rps']:.0f}, {post['p50_ms']:.1f} / {post['p95_ms']:.1f} | "
            f"{'yes' if step.within() else 'no'}{' ⚠ ' + errors if errors else ''} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="1k", help="the database of run_benchmarks.py to use [1k]")
    parser.add_argument("--seconds", type=int, default=30, help="seconds of each step [30]")
    args = parser.parse_args()
    work = Path(tempfile.gettempdir()) / "mirette-bench"
    work.mkdir(exist_ok=True)
    started = datetime.now(timezone.utc)
    app = plugin_app(args.scale)
    artists, pairs = people(app, BUYERS + DISTINCT_PAGES)
    server = start_server("open-pages", "bench_app", args.scale, work, worker_args=WORKERS)
    steps: list[Step] = []
    load_before = os.getloadavg()
    try:
        inbox = [Call("GET", "/returns/artist/inbox", forge_cookie(app, account_id)) for account_id in artists]
        posts = buyer_calls(app, server, pairs)
        counts = list(STEPS)
        while counts:
            open_pages = counts.pop(0)
            # Keys last a few minutes: each step opens its pages afresh.
            polls = poll_calls(app, server, pairs)
            step = measure_step(server, polls, posts, inbox, open_pages, args.seconds)
            steps.append(step)
            print(table(steps)[-1], flush=True)
            if not counts and step.within() and open_pages * 2 <= MOST_PAGES:
                counts.append(open_pages * 2)
            time.sleep(2)
    finally:
        server.stop()
    within = [step.open_pages for step in steps if step.within()]
    largest = max(within) if within else 0
    lines = [f"Run of {started:%Y-%m-%d %H:%M} UTC, {args.scale} database, {args.seconds} s per step, 2 gunicorn "
             f"gthread workers of 4 threads, load average {'/'.join(f'{x:.2f}' for x in load_before)} before, "
             f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())} after; the client, the app and PostgreSQL share "
             "the 2 cores.", "",
             *table(steps), "",
             f"Largest number of open pages with every p95 under {P95_LIMIT_MS:.0f} ms: "
             f"**{largest:,}**" + ("" if within else " (none of the steps)") + ".", ""]
    text = "\n".join(lines)
    print("\n" + text)
    (HERE / "open-pages-results.json").write_text(json.dumps({
        "started": started.isoformat(), "seconds": args.seconds, "database": database_url(args.scale),
        "steps": [asdict(step) for step in steps], "largest_within": largest, "report": text,
    }, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
