"""Where one page's time goes: the plugin's pages under cProfile, in-process.

Uses a database filled by ``run_benchmarks.py`` (or ``generate_data.py``) and its
summary file; no server, no HTTP. Prints the CPU milliseconds per request and
the functions that take the most of it::

    .venv/bin/python benchmarks/profile_page.py details --scale 1k
    .venv/bin/python benchmarks/profile_page.py all --scale 200k --sort tottime

Pages: details, inbox_first, inbox_deep, support_status, support_escalated,
poll, post (as in ``run_benchmarks.py``), or ``all`` for the CPU figure of each.
"""

from __future__ import annotations

import argparse
import cProfile
import html
import json
import pstats
import re
import time
from pathlib import Path

import run_benchmarks as bench


def poll_of(app, cookie: str, long_id: int) -> tuple[str, str]:
    """The poll URL exactly as the details page writes it, and its key's header ("Name: value")."""
    page = app.test_client(use_cookies=False).get(f"/returns/requests/{long_id}", headers={"Cookie": cookie})
    text = page.get_data(as_text=True)
    found = re.search(r'hx-get="([^"]*/news\?[^"]*)"', text)
    path = found.group(1).replace("&amp;", "&") if found else f"/returns/requests/{long_id}/news"
    keyed = re.search(r'hx-headers="([^"]*)"', text)
    if not keyed:
        return path, ""
    (name, value), = json.loads(html.unescape(keyed.group(1))).items()
    return path, f"{name}: {value}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("page", help="a page key, or all")
    parser.add_argument("--scale", default="1k")
    parser.add_argument("--work", default="/tmp/mirette-bench", help="where run_benchmarks.py keeps its files")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--callers", help="also print who calls the functions matching this")
    args = parser.parse_args()

    summary = json.loads(Path(args.work, f"{args.scale}-summary.json").read_text())
    app = bench.plugin_app(args.scale)
    marks = bench.find_landmarks(app, summary)
    cookies = {role: bench.forge_cookie(app, marks[f"{role}_id"]) for role in ("buyer", "artist", "support")}
    client = app.test_client(use_cookies=False)
    token_page = client.get(f"/returns/requests/{summary['long_thread_request_id']}",
                            headers={"Cookie": cookies["buyer"]})
    token = re.search(r'name="csrf_token"\s+value="([^"]+)"', token_page.get_data(as_text=True))
    set_cookie = token_page.headers.get("Set-Cookie", "").split(";", 1)[0]
    if set_cookie:
        cookies["buyer"] = set_cookie
    session = bench.Session(cookies["buyer"], token.group(1) if token else "")
    pages = bench.pages_for(summary, marks, *poll_of(app, cookies["buyer"], summary["long_thread_request_id"]))
    chosen = [page for page in pages if args.page in ("all", page.key)]
    if not chosen:
        parser.error(f"no page {args.page!r}; pages: {', '.join(page.key for page in pages)}")

    for page in chosen:
        headers = {"Cookie": cookies[page.role]}
        if page.header:
            name, _colon, value = page.header.partition(":")
            headers[name] = value.strip()
        body = bench.post_body(session) if page.method == "POST" else ""

        def once(page: bench.Page = page, body: str = body, headers: dict[str, str] = headers) -> int:
            if page.method == "POST":
                return client.post(page.plugin, data=body, headers=headers,
                                   content_type="application/x-www-form-urlencoded").status_code
            return client.get(page.plugin, headers=headers).status_code

        status = once()
        for _warm in range(5):
            once()
        started = time.process_time()
        for _run in range(args.repeat):
            once()
        cpu_ms = (time.process_time() - started) * 1000 / args.repeat
        print(f"{page.key:20} HTTP {status}  {cpu_ms:6.2f} CPU ms per request", flush=True)
        if len(chosen) == 1:
            # CPU time, not wall time: waits on the database are not the page's cost.
            profile = cProfile.Profile(time.process_time)
            profile.enable()
            for _run in range(args.repeat):
                once()
            profile.disable()
            stats = pstats.Stats(profile).strip_dirs().sort_stats(args.sort)
            stats.print_stats(args.top)
            if args.callers:
                stats.print_callers(args.callers)


if __name__ == "__main__":
    main()
