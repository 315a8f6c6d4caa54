"""Soak: two app servers, two email workers, an object store, and faults, for twenty minutes.

The people, the data and the final count are those of ``run_load.py``; what
this script adds is a shop on several machines and what goes wrong there:

- two app servers (gunicorn, each on its own port) over one PostgreSQL
  database, reached through a TCP proxy of this script's own (the shared
  server is never stopped: the proxy is cut);
- two ``flask mirette-returns send-emails --loop`` workers;
- photos in an object store: moto's S3 API server on 127.0.0.1, behind a
  second proxy;
- buyers and artists spread over both servers, sending photos with one
  message in four, and sending a form again when told "try again in a
  moment" (503), as the page invites them to.

Faults, one after the other (times for the default 1,200 seconds, scaled
for a shorter run): the SMTP server stops for 60 s; one email worker is
killed with SIGKILL and started again; the database is cut for 10 s; one app
server is restarted; the object store is cut for 60 s. The last fifth of the
run has no fault: what users see there shows whether everything came back.

At the end the outbox is drained, and it counts what was lost, duplicated or
stored without an answer (requests, messages, photos, emails), the errors
users saw during each fault and after it, and p95 per page during and
outside the faults; prints a table and writes ``load/soak-results.json``.
The exit status is 0 only when nothing was lost or duplicated and no user saw
an error once the faults were over. An email delivered twice with the same
Message-ID (a worker killed between sending it and marking it sent) is
counted, not a failure: that is the outbox's documented at-least-once
guarantee.

Usage (from the repository root; PostgreSQL at 127.0.0.1:5432)::

    .venv/bin/python load/run_soak.py                       # 20 minutes
    .venv/bin/python load/run_soak.py --duration 90 --buyers 30 --artists 10
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import run_load as load  # noqa: E402 - after the path

DATABASE = os.environ.get("SOAK_DATABASE", "mirette_soak")
BUCKET = "mirette-soak-photos"
#: Where the plugin puts its objects in the bucket (its default ``MIRETTE_RETURNS_S3_PREFIX``).
PREFIX = "mirette-returns/photos/"
#: Dummy credentials for the local S3 API server, found by boto3's usual chain.
AWS = {"AWS_ACCESS_KEY_ID": "mirette-soak", "AWS_SECRET_ACCESS_KEY": "mirette-soak-secret",
       "AWS_DEFAULT_REGION": "us-east-1"}
log = load.log


# --------------------------------------------------------------------------- #
# Things that can be cut: a proxy process, the object store
# --------------------------------------------------------------------------- #


def serve_proxy(target: str, port: int) -> None:
    """Run in a process of its own (``--proxy``): SIGUSR1 cuts, SIGUSR2 restores.

    A process of its own, so that its copying does not wait on the simulated
    people for the interpreter lock.
    """
    from tests.tcp_proxy import TcpProxy

    host, target_port = target.rsplit(":", 1)
    proxy = TcpProxy(host, int(target_port))
    proxy.port = port
    proxy.start()
    signal.signal(signal.SIGUSR1, lambda *_: proxy.cut())
    signal.signal(signal.SIGUSR2, lambda *_: proxy.restore())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    while True:
        signal.pause()


class Proxy:
    """The handle of a proxy process in front of ``target``."""

    def __init__(self, name: str, target: str, log_dir: Path) -> None:
        self.name = name
        self.port = load.free_port()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--proxy", target, "--proxy-port", str(self.port)],
            stdout=subprocess.PIPE, stderr=(log_dir / f"proxy-{name}.log").open("w"), text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {name} proxy did not start; see {log_dir}/proxy-{name}.log")

    def cut(self) -> None:
        self.process.send_signal(signal.SIGUSR1)

    def restore(self) -> None:
        self.process.send_signal(signal.SIGUSR2)

    def stop(self) -> None:
        load.stop_process(self.process)


def start_object_store(port: int, log_file: Path) -> subprocess.Popen:
    process = subprocess.Popen([str(load.BIN / "moto_server"), "-H", load.HOST, "-p", str(port)],
                               env={**os.environ, **AWS}, stdout=log_file.open("w"), stderr=subprocess.STDOUT)
    client = s3_client(port)
    deadline = time.monotonic() + 60
    while True:
        try:
            client.create_bucket(Bucket=BUCKET)
            return process
        except Exception:  # noqa: BLE001 - not listening yet
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the S3 API server did not start; see {log_file}") from None
            time.sleep(0.3)


def s3_client(port: int) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=f"http://{load.HOST}:{port}", region_name="us-east-1",
                        aws_access_key_id=AWS["AWS_ACCESS_KEY_ID"], aws_secret_access_key=AWS["AWS_SECRET_ACCESS_KEY"])


def stored_objects(port: int) -> set[str]:
    keys: set[str] = set()
    for page in s3_client(port).get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


# --------------------------------------------------------------------------- #
# The shop on several machines
# --------------------------------------------------------------------------- #


@dataclass
class Shop:
    logs: Path
    env: dict[str, str]
    ports: tuple[int, int]
    threads: int
    web: list[subprocess.Popen]
    workers: list[subprocess.Popen]
    starts: int = 0

    def start_web(self, number: int) -> subprocess.Popen:
        self.starts += 1
        return load.start_web(self.ports[number], self.env, self.logs / f"gunicorn-{number}-{self.starts}.log",
                              self.threads, workers=1)

    def start_worker(self, number: int) -> subprocess.Popen:
        self.starts += 1
        return load.start_worker(self.env, self.logs / f"worker-{number}-{self.starts}.log")

    def stop(self) -> None:
        for process in [*self.workers, *self.web]:
            load.stop_process(process)


# --------------------------------------------------------------------------- #
# Faults
# --------------------------------------------------------------------------- #


@dataclass
class Fault:
    name: str
    #: Seconds into the run it starts and ends (``end`` set once it is over).
    start: float
    end: float = 0.0
    note: str = ""


def schedule(duration: float) -> list[tuple[str, float, float]]:
    """``(fault, start, length)``: the default run's times, scaled to ``duration``.

    The database cut stays 10 s, as asked of a real outage; the rest scale
    with the run, so that a short run still has calm between the faults.
    """
    scale = duration / 1200
    return [
        ("SMTP server stopped", 120 * scale, max(5.0, 60 * scale)),
        ("email worker killed (SIGKILL)", 270 * scale, 5.0),
        ("database cut", 390 * scale, 10.0),
        ("app server restarted", 520 * scale, 0.0),
        ("object store cut", 660 * scale, max(10.0, 60 * scale)),
    ]


def inject(run: load.Run, shop: Shop, smtp: load.SMTPServer, database: Proxy, store: Proxy,
           faults: list[Fault], duration: float) -> None:
    """Each fault in turn; every one is undone before the next begins."""
    clock = run.record.now
    for name, start, length in schedule(duration):
        while clock() < start:
            time.sleep(0.2)
        fault = Fault(name, round(clock(), 1))
        faults.append(fault)
        log(f"fault: {name} (t={fault.start} s)")
        if name.startswith("SMTP"):
            smtp.stop()
            time.sleep(length)
            smtp.start()
        elif name.startswith("email worker"):
            victim = shop.workers[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            time.sleep(length)
            shop.workers[0] = shop.start_worker(0)
            fault.note = "claimed emails wait until the claim runs out (5 minutes), then the other worker sends them"
        elif name.startswith("database"):
            database.cut()
            time.sleep(length)
            database.restore()
        elif name.startswith("app server"):
            # A deploy: SIGTERM lets the requests in progress finish; the
            # server's people meet a closed port until it is back.
            load.stop_process(shop.web[1])
            shop.web[1] = shop.start_web(1)
        elif name.startswith("object store"):
            store.cut()
            time.sleep(length)
            store.restore()
        fault.end = round(clock(), 1)
        log(f"fault over: {name} (t={fault.end} s)")


# --------------------------------------------------------------------------- #
# Counting what users saw
# --------------------------------------------------------------------------- #


def windows(faults: list[Fault], seconds: float) -> list[dict[str, Any]]:
    """Each fault, and the calm after it (until the next fault or the end of the load)."""
    found = []
    for number, fault in enumerate(faults):
        calm_until = faults[number + 1].start if number + 1 < len(faults) else seconds
        found.append({"fault": fault.name, "start": fault.start, "end": fault.end, "after_until": round(calm_until, 1),
                      "note": fault.note})
    return found


def user_errors(record: load.Record, spans: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    first_fault = spans[0]["start"] if spans else seconds
    for span in spans:
        during = [(at, f"{kind}: {what}") for at, kind, what in record.error_times
                  if span["start"] <= at <= span["end"]]
        after = [(at, f"{kind}: {what}") for at, kind, what in record.error_times
                 if span["end"] < at <= span["after_until"]]
        span["errors_during"] = len(during)
        span["errors_during_by_kind"] = dict(Counter(what.split(":")[0] for _at, what in during))
        span["errors_after"] = len(after)
        span["last_error_after_the_end_s"] = round(max(at for at, _ in after) - span["end"], 1) if after else None
        span["first_errors_after"] = [f"t={at:.1f} s {what}" for at, what in after[:10]]
    before = [f"t={at:.1f} s {kind}: {what}" for at, kind, what in record.error_times if at < first_fault]
    return {"before_the_first_fault": len(before), "first_errors_before": before[:10],
            "after_a_fault_ended": sum(span["errors_after"] for span in spans)}


def latency_by_page(record: load.Record, spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    def in_fault(at: float) -> bool:
        return any(span["start"] <= at <= span["end"] for span in spans)

    split: dict[str, dict[str, list[float]]] = {}
    for at, kind, seconds in record.samples:
        page = kind.removesuffix(" (sent again)")
        split.setdefault(page, {"during": [], "outside": []})["during" if in_fault(at) else "outside"].append(seconds)
    return {page: {f"{when}_{what}": value
                   for when, values in sorted(parts.items())
                   for what, value in (("requests", len(values)),
                                       ("p95_ms", round(load.percentile(values, 0.95) * 1000)))}
            for page, parts in sorted(split.items())}


# --------------------------------------------------------------------------- #
# The run
# --------------------------------------------------------------------------- #


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=240, help="simulated buyers")
    parser.add_argument("--artists", type=int, default=60, help="simulated artists")
    parser.add_argument("--duration", type=float, default=1200, help="seconds of load (faults scale with it)")
    parser.add_argument("--drain", type=float, default=420, help="most seconds to wait for the outbox to empty")
    parser.add_argument("--threads", type=int, default=8, help="threads of each app server")
    parser.add_argument("--timeout", type=float, default=30, help="client timeout per HTTP request, seconds")
    parser.add_argument("--photo-every", type=int, default=4, help="one message in this many carries a photo")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--output", type=Path, default=HERE / "soak-results.json")
    parser.add_argument("--proxy", help=argparse.SUPPRESS)
    parser.add_argument("--proxy-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.proxy:
        serve_proxy(args.proxy, args.proxy_port)
        return 0

    logs = Path(os.environ.get("LOAD_LOG_DIR", "/tmp/mirette-soak"))
    logs.mkdir(parents=True, exist_ok=True)
    direct_url = f"{load.SERVER_URL}/{DATABASE}"
    # This process (data, people, the final count) reads the database directly; the servers through the proxy.
    os.environ["LOAD_DATABASE_URL"] = direct_url
    os.environ.update(AWS)
    log(f"creating database {DATABASE} and its data")
    load.recreate_database(DATABASE)
    load.prepare_data(args.seed, direct_url)

    import load_app

    app = load_app.app
    buyers, artists = load.find_people(app, args.buyers, args.artists)
    for person in [*buyers, *artists]:
        person.cookie = load.sign(app, person.account_id)
    log(f"{len(buyers)} buyers, {len(artists)} artists")

    server = sa_server_address()
    database = Proxy("database", server, logs)
    store_port = load.free_port()
    store_process = start_object_store(store_port, logs / "s3.log")
    store = Proxy("object-store", f"{load.HOST}:{store_port}", logs)
    smtp = load.SMTPServer(load.free_port())
    smtp.start()
    ports = (load.free_port(), load.free_port())
    env = {**load.environment(smtp.port, ports[0]), **AWS,
           "LOAD_DATABASE_URL": direct_url.replace(server, f"{load.HOST}:{database.port}"),
           "LOAD_S3_BUCKET": BUCKET, "LOAD_S3_ENDPOINT_URL": f"http://{load.HOST}:{store.port}"}
    shop = Shop(logs, env, ports, args.threads, [], [])
    record = load.Record()
    faults: list[Fault] = []
    base = load.baselines(app)
    seconds = 0.0
    drained = None
    try:
        shop.web = [shop.start_web(0), shop.start_web(1)]
        shop.workers = [shop.start_worker(0), shop.start_worker(1)]
        log(f"soak: {len(buyers)} buyers and {len(artists)} artists for {args.duration:.0f} s on ports {ports}")
        begin = time.monotonic()
        record.started = begin
        run = load.Run(ports, record, begin + args.duration, args.seed, args.timeout, resends=3,
                       photo_every=args.photo_every)
        threads = [threading.Thread(target=load.buyer, args=(run, person, n), daemon=True)
                   for n, person in enumerate(buyers)]
        threads += [threading.Thread(target=load.artist, args=(run, person, n), daemon=True)
                    for n, person in enumerate(artists)]
        injector = threading.Thread(target=inject, args=(run, shop, smtp, database, store, faults, args.duration),
                                    daemon=True)
        for thread in [*threads, injector]:
            thread.start()
        while time.monotonic() < run.ends_at:
            time.sleep(min(30, max(0.1, run.ends_at - time.monotonic())))
            log(f"t={record.now():5.0f} s  {len(record.samples)} HTTP requests, {record.error_count} errors, "
                f"{len(record.requests)} requests, {len(record.messages)} messages, "
                f"{sum(record.photos.values())} photos")
        injector.join(timeout=120)
        for thread in threads:
            thread.join(timeout=args.timeout + 60)
        seconds = record.now()
        log("load over; draining the outbox")
        drain_started = time.monotonic()
        while time.monotonic() - drain_started < args.drain:
            waiting = load.pending_emails(app, base["outbox"])
            if not waiting:
                drained = round(time.monotonic() - drain_started, 1)
                break
            log(f"{waiting} emails still waiting (a killed worker's claim runs out after 5 minutes)")
            time.sleep(10)
    finally:
        shop.stop()
        database.stop()
        objects = {key.removeprefix(PREFIX) for key in stored_objects(store_port)}
        store.stop()
        load.stop_process(store_process)
    counts = load.check(app, record, base, smtp, stored_objects=objects, repeats_allowed=True)
    smtp.stop()
    spans = windows(faults, seconds)
    seen = user_errors(record, spans, seconds)
    figures = load.summarize(record, seconds)
    goals = {
        "nothing lost": not any(counts["lost"].values()),
        "nothing duplicated": not any(counts["duplicated"].values()),
        "nothing stored without an answer": not any(counts["stored_without_an_answer"].values()),
        "no error after a fault ended": not seen["after_a_fault_ended"],
        "no error before the first fault": not seen["before_the_first_fault"],
        "every other check": not counts["problems"],
    }
    result = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": load.machine(),
        "setup": {"buyers": len(buyers), "artists": len(artists), "duration_s": args.duration,
                  "app_servers": f"2 × gunicorn (1 worker, gthread, {args.threads} threads)",
                  "email_workers": 2, "object_store": "moto S3 server behind a TCP proxy",
                  "database": "PostgreSQL behind a TCP proxy", "scale": load.SCALE},
        "load_seconds": round(seconds, 1),
        "outbox_drained_after_s": drained,
        "faults": spans,
        "user_errors": seen,
        "latency_by_page": latency_by_page(record, spans),
        "figures": figures,
        "counts": counts,
        "goals": goals,
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print_report(result)
    return 0 if all(goals.values()) else 1


def sa_server_address() -> str:
    """``host:port`` of the PostgreSQL server the data went to."""
    import sqlalchemy as sa

    url = sa.engine.make_url(f"{load.SERVER_URL}/{DATABASE}")
    return f"{url.host or load.HOST}:{url.port or 5432}"


def print_report(result: dict[str, Any]) -> None:
    counts, figures = result["counts"], result["figures"]
    print()
    print(f"Soak, {result['date']}: {result['setup']['buyers']} buyers + {result['setup']['artists']} artists, "
          f"{result['load_seconds']} s of load, {figures['http_requests']} HTTP requests "
          f"({figures['throughput_rps']}/s); outbox drained {result['outbox_drained_after_s']} s after")
    print(f"  {'fault':<32} {'from':>7} {'to':>7} {'errors during':>14} {'errors after':>13}")
    for span in result["faults"]:
        print(f"  {span['fault']:<32} {span['start']:>7} {span['end']:>7} {span['errors_during']:>14} "
              f"{span['errors_after']:>13}")
    print(f"  errors before the first fault: {result['user_errors']['before_the_first_fault']}")
    print(f"  {'page':<26} {'requests':>9} {'p95 ms':>8} {'in faults':>10} {'p95 ms':>8}")
    for page, row in result["latency_by_page"].items():
        print(f"  {page:<26} {row.get('outside_requests', 0):>9} {row.get('outside_p95_ms', '-'):>8} "
              f"{row.get('during_requests', 0):>10} {row.get('during_p95_ms', '-'):>8}")
    print(f"  {'':<24} {'answered':>9} {'stored':>8} {'lost':>6} {'twice':>6}")
    for what, answered, stored in (("requests", counts["requests_answered"] + counts["cancellations_answered"],
                                    counts["requests_stored"]),
                                   ("messages", counts["messages_answered"], counts["messages_stored"]),
                                   ("photos", counts["photos_answered"], counts["photos_stored"]),
                                   ("emails (queued, received)", counts["emails_queued"], counts["emails_received"])):
        key = what.split()[0]
        print(f"  {what:<24} {answered:>9} {stored:>8} {counts['lost'].get(key, 0):>6} "
              f"{counts['duplicated'].get(key, 0):>6}")
    print(f"  emails delivered again with the same Message-ID: {counts['emails_received_twice_same_message_id']}")
    print(f"  stored without an answer: {counts['stored_without_an_answer']}")
    for problem in counts["problems"][:30]:
        print(f"  PROBLEM: {problem}")
    for error in result["user_errors"]["first_errors_before"]:
        print(f"  error before the faults: {error}")
    for span in result["faults"]:
        for error in span["first_errors_after"]:
            print(f"  error after {span['fault']}: {error}")
    for goal, met in result["goals"].items():
        print(f"  goal {'met   ' if met else 'MISSED'} {goal}")


if __name__ == "__main__":
    sys.exit(main())
