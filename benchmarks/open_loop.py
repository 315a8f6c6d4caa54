"""People sending requests on their own schedule, over kept-alive connections (asyncio).

wrk runs closed loops: a connection sends its next request when the last one
is answered, and with a pause it connects first and waits after, where a
browser connects when it has something to send. On a threaded gunicorn
worker each such idle new connection holds a thread. Here each lane (a
person, or a share of the open pages) sends at its own times, whatever the
server's answers (an open loop), connects when it sends, keeps the
connection alive between requests, and the latency of every request is kept
per kind of page.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    cookie: str = ""
    header: str = ""
    body: str = ""

    def encode(self) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
        if self.cookie:
            lines.append(f"Cookie: {self.cookie}")
        if self.header:
            lines.append(self.header)
        data = self.body.encode()
        if self.method == "POST":
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(data)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


@dataclass
class Lane:
    """A person (or a share of the open pages): requests sent one after the other, every ``period`` s."""

    kind: str
    calls: list[Call]
    period: float


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0
    late_ms: float = 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; its status and whether the server keeps the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, keep = 0, True
    for line in lines[1:]:
        name, _colon, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
    if length:
        await reader.readexactly(length)
    return status, keep


async def _run_lane(lane: Lane, port: int, until: float, tally: Tally, rng: random.Random) -> None:
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    due = time.monotonic() + rng.uniform(0, lane.period)
    number = 0
    try:
        while True:
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if time.monotonic() >= until:
                return
            call = lane.calls[number % len(lane.calls)]
            number += 1
            started = time.monotonic()
            tally.late_ms = max(tally.late_ms, (started - due) * 1000)
            try:
                if connection is None:
                    connection = await asyncio.open_connection("127.0.0.1", port)
                reader, writer = connection
                writer.write(call.encode())
                await writer.drain()
                status, keep = await asyncio.wait_for(_answer(reader), timeout=30)
                tally.latencies_ms.append((time.monotonic() - started) * 1000)
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                if not keep:
                    writer.close()
                    connection = None
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                tally.failures += 1
                if connection is not None:
                    connection[1].close()
                connection = None
            due += lane.period * (0.5 + rng.random())
    finally:
        if connection is not None:
            connection[1].close()


async def _run(lanes: list[Lane], port: int, seconds: float, seed: int) -> dict[str, Tally]:
    until = time.monotonic() + seconds
    tallies = {lane.kind: Tally() for lane in lanes}
    rng = random.Random(seed)
    await asyncio.gather(*(_run_lane(lane, port, until, tallies[lane.kind], random.Random(rng.random()))
                           for lane in lanes))
    return tallies


def run(lanes: list[Lane], port: int, seconds: float, seed: int = 1) -> dict[str, Tally]:
    """Run every lane for ``seconds`` against 127.0.0.1:``port``; the tally of each kind."""
    return asyncio.run(_run(lanes, port, seconds, seed))
