"""The benchmarks' figures as Markdown: per scale, across scales, and the targets met or missed."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

TITLES: dict[str, str] = {
    "details": "See details (50-message thread)",
    "inbox_first": "Busiest artist's inbox, first page",
    "inbox_deep": "Busiest artist's inbox, deep page",
    "support_status": "Support list, status filter",
    "support_escalated": "Support list, escalated filter",
    "poll": "Poll, nothing new",
    "post": "Post a message",
}
#: What each page's two yardsticks are, in words.
YARDSTICKS: dict[str, tuple[str, str]] = {
    "poll": ("the bare one-query endpoint", "a bare 204"),
    "post": ("", "a bare insert"),
}
PAGE_YARDSTICKS = ("the same-work page", "the bare page")

#: Targets: the plugin's req/s at least this share of the same-work page's and of the bare page's.
MIN_SAME_WORK = 0.8
MIN_BARE = 0.5
#: The quiet poll: against the bare one-query endpoint and the bare 204.
MIN_POLL_SAME = 1.0
MIN_POLL_BARE = 0.5
#: Posting a message, against a bare insert.
MIN_POST_BARE = 0.5
MAX_DEEP_GAP = 0.2
MAX_P95_GROWTH = 1.3
MAX_MEMORY_GROWTH = 0.05
MEMORY_REQUESTS = 10_000


def ms(value: float) -> str:
    return f"{value:.1f}"


def ratio(plugin: Any, other: Any | None) -> float | None:
    return plugin.rps / other.rps if other is not None and other.rps else None


def shown(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def growth(before: float, after: float) -> str:
    return f"{after / before - 1:+.0%}" if before else "?"


def floors(key: str) -> tuple[float | None, float]:
    """The page's floors against its same-work yardstick and its bare one."""
    if key == "poll":
        return MIN_POLL_SAME, MIN_POLL_BARE
    if key == "post":
        return None, MIN_POST_BARE
    return MIN_SAME_WORK, MIN_BARE


def scale_table(run: Any) -> list[str]:
    lines = [
        f"| Page ({run.scale} requests) | req/s | p50 ms | p95 ms | same-work req/s (p95 ms) | bare req/s (p95 ms) | "
        "plugin / same-work | plugin / bare | CPU ms per request: plugin, same-work, bare | "
        "SQL statements: plugin (first view → next), same-work, bare | bytes: plugin, same-work, bare |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, result in run.plugin.items():
        base, same = run.baseline[key], run.same.get(key)
        errors = f" ⚠ {result.errors}" if result.errors else ""
        same_rps = f"{same.rps:,.0f} ({ms(same.p95_ms)})" if same else "–"

        def three(name: str, fmt: str, result: Any = result, same: Any = same, base: Any = base) -> str:
            values = [getattr(side, name) if side else None for side in (result, same, base)]
            return ", ".join("–" if value is None else format(value, fmt) for value in values)

        lines.append(
            f"| {TITLES.get(key, key)}{errors} | {result.rps:,.0f} | {ms(result.p50_ms)} | {ms(result.p95_ms)} | "
            f"{same_rps} | {base.rps:,.0f} ({ms(base.p95_ms)}) | {shown(ratio(result, same))} | "
            f"{shown(ratio(result, base))} | {three('cpu_ms', '.1f')} | {statements(result, same, base)} | "
            f"{three('bytes', ',')} |")
    return lines


def statements(result: Any, same: Any, base: Any) -> str:
    """The plugin's statements on a page's first view and the next (pieces kept), then the yardsticks'."""
    plugin = "–" if result.statements is None else str(result.statements)
    first = getattr(result, "first_statements", None)
    if first is not None and first != result.statements:
        plugin = f"{first} → {plugin}"
    others = ["–" if side is None or side.statements is None else str(side.statements) for side in (same, base)]
    return ", ".join([plugin, *others])


def growth_table(small: Any, large: Any) -> list[str]:
    a_name, b_name = small.scale, large.scale
    lines = [
        f"| Page | req/s {a_name} → {b_name} | p95 ms {a_name} → {b_name} | p95 growth | same-work p95 growth | "
        f"bare p95 growth | plugin / same-work {a_name} → {b_name} | CPU ms per request {a_name} → {b_name} | "
        f"statements {a_name} → {b_name} |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, a in small.plugin.items():
        b = large.plugin[key]
        base_a, base_b = small.baseline[key], large.baseline[key]
        same_a, same_b = small.same.get(key), large.same.get(key)
        same_growth = growth(same_a.p95_ms, same_b.p95_ms) if same_a and same_b else "–"
        lines.append(
            f"| {TITLES.get(key, key)} | {a.rps:,.0f} → {b.rps:,.0f} | {ms(a.p95_ms)} → {ms(b.p95_ms)} | "
            f"{growth(a.p95_ms, b.p95_ms)} | {same_growth} | {growth(base_a.p95_ms, base_b.p95_ms)} | "
            f"{shown(ratio(a, same_a))} → {shown(ratio(b, same_b))} | "
            f"{a.cpu_ms:.1f} → {b.cpu_ms:.1f} | {a.statements} → {b.statements} |")
    return lines


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def page_targets(run: Any) -> list[str]:
    lines = []
    for key, result in run.plugin.items():
        same_floor, bare_floor = floors(key)
        same_words, bare_words = YARDSTICKS.get(key, PAGE_YARDSTICKS)
        same, base = run.same.get(key), run.baseline[key]
        if same_floor is not None and same is not None:
            measured = ratio(result, same) or 0.0
            cpu = f"; CPU per request {result.cpu_ms:.1f} against {same.cpu_ms:.1f} ms"
            lines.append(f"| {run.scale}: {TITLES.get(key, key)} ≥ {same_floor:.1f}× {same_words} | "
                         f"{measured:.2f}×{cpu} | {verdict(measured >= same_floor)} |")
        measured = ratio(result, base) or 0.0
        lines.append(f"| {run.scale}: {TITLES.get(key, key)} ≥ {bare_floor:.1f}× {bare_words} | "
                     f"{measured:.2f}×; CPU per request {result.cpu_ms:.1f} against {base.cpu_ms:.1f} ms | "
                     f"{verdict(measured >= bare_floor)} |")
    return lines


def statement_targets(runs: list[Any]) -> list[str]:
    lines = []
    for run in runs:
        details = run.plugin.get("details")
        if details and run.short_thread_statements is not None:
            first, short_first = getattr(details, "first_statements", None), getattr(
                run, "short_thread_first_statements", None)
            lines.append(f"| {run.scale}: statements of the details page constant in thread length | "
                         f"50 messages: {first} on a first view, {details.statements} after; a short thread: "
                         f"{short_first} and {run.short_thread_statements} | "
                         f"{verdict(details.statements == run.short_thread_statements and first == short_first)} |")
    if len(runs) >= 2:
        small, large = runs[0], runs[-1]
        changed = [TITLES.get(key, key) for key, result in small.plugin.items()
                   if result.statements != large.plugin[key].statements]
        counts = ", ".join(f"{TITLES.get(k, k)} {r.statements}" for k, r in small.plugin.items())
        lines.append(f"| statements per page the same at {small.scale} and {large.scale} | {counts}"
                     f"{'; changed: ' + ', '.join(changed) if changed else ''} | {verdict(not changed)} |")
    return lines


def other_targets(run: Any) -> list[str]:
    lines = []
    first, deep = run.plugin.get("inbox_first"), run.plugin.get("inbox_deep")
    if first and deep and first.rps and first.p95_ms:
        gap = deep.rps / first.rps - 1
        p95_gap = deep.p95_ms / first.p95_ms - 1
        lines.append(f"| {run.scale}: deep inbox page within 20% of the first | req/s {gap:+.0%}, p95 {p95_gap:+.0%}; "
                     f"statements {first.statements} and {deep.statements} | "
                     f"{verdict(abs(gap) <= MAX_DEEP_GAP and abs(p95_gap) <= MAX_DEEP_GAP)} |")
    if run.memory:
        change = run.memory["growth"]
        before = ", ".join(f"{kb / 1024:.1f}" for kb in run.memory["before_kb"].values())
        after = ", ".join(f"{kb / 1024:.1f}" for kb in run.memory["after_kb"].values())
        restarted = " (a worker was restarted!)" if run.memory["workers_restarted"] else ""
        enough = run.memory["requests"] >= MEMORY_REQUESTS
        lines.append(f"| {run.scale}: worker memory flat over {MEMORY_REQUESTS:,} requests "
                     f"(≤ {MAX_MEMORY_GROWTH:.0%}) | {run.memory['requests']:,} requests: RSS MB {before} → "
                     f"{after}, {change:+.1%}{restarted} | "
                     f"{verdict(enough and change <= MAX_MEMORY_GROWTH and not run.memory['workers_restarted'])} |")
    return lines


def targets(runs: list[Any]) -> list[str]:
    """Each target, met or missed and by how much."""
    lines = ["| Target | Measured | Verdict |", "| --- | --- | --- |"]
    for run in runs:
        lines += page_targets(run) + other_targets(run)
    lines += statement_targets(runs)
    if len(runs) >= 2:
        small, large = runs[0], runs[-1]
        for key, a in small.plugin.items():
            b = large.plugin[key]
            grown = b.p95_ms / a.p95_ms if a.p95_ms else 0
            lines.append(f"| p95 at {large.scale} within 30% of p95 at {small.scale}: {TITLES.get(key, key)} | "
                         f"{ms(a.p95_ms)} → {ms(b.p95_ms)} ms ({growth(a.p95_ms, b.p95_ms)}; bare "
                         f"{growth(small.baseline[key].p95_ms, large.baseline[key].p95_ms)}) | "
                         f"{verdict(grown <= MAX_P95_GROWTH)} |")
    return lines


def compared_table(run: Any) -> list[str]:
    """CPU per request of the previous code and this one, served side by side (``--compare-ref``)."""
    found = run.compared
    lines = [f"**Before and after** ({found['ref']} against this checkout, {run.scale}, served side by side, "
             f"{found['seconds']:g} s of wrk each in {found['rounds']} alternating slices; CPU per request: the "
             "gunicorn workers' user and system time over the requests they answered)", "",
             "| Page | req/s before → after | CPU ms per request before → after | change |",
             "| --- | ---: | ---: | ---: |"]
    for key, pair in found["pages"].items():
        before, after = pair["before"], pair["after"]
        lines.append(f"| {TITLES.get(key, key)} | {before['rps']:,.0f} → {after['rps']:,.0f} | "
                     f"{before['cpu_ms']:.2f} → {after['cpu_ms']:.2f} | {growth(before['cpu_ms'], after['cpu_ms'])} |")
    return [*lines, ""]


def report(runs: list[Any], info: dict[str, str], args: argparse.Namespace, started: datetime,
           commands: list[str]) -> str:
    lines = [
        f"Run of {started:%Y-%m-%d %H:%M} UTC on {info['nproc']} cores ({info['cpu']}, {info['memory']} RAM), "
        f"PostgreSQL {info['postgresql']}, Python {info['python']}, {info['gunicorn']}, {info['wrk']}. "
        "Nothing else ran on the machine, but its 2 cores serve the apps under test, wrk and PostgreSQL "
        "together, and it is a virtual machine: absolute figures move between runs, read the ratios. "
        f"wrk: {args.duration:g} s per URL after a 2 s warm-up, 2 threads, {args.connections} connections, "
        f"in {args.rounds} rounds; each round measures every page of every scale, plugin, same-work page and "
        f"bare page one after the other, for {args.duration / args.rounds:g} s each (req/s over all rounds, p50 "
        "and p95 the median of the rounds'), so a change in the machine's load falls on all of them alike; "
        "gunicorn: 2 sync workers per app. CPU ms per request: the Flask app's own CPU time (not the "
        "database's), in-process, averaged over 20 requests.",
        "",
    ]
    for run in runs:
        load = "/".join(f"{x:.2f}" for x in run.load_before)
        load_after = "/".join(f"{x:.2f}" for x in run.load_after) if run.load_after else "?"
        generated = f", generated in {run.generate_seconds:.0f} s" if run.generate_seconds else ""
        options = ", ".join(f"{v:,} {k}" for k, v in run.options.items())
        during = (f", {min(run.round_loads):.1f} to {max(run.round_loads):.1f} while measuring"
                  if run.round_loads else "")
        lines += [f"**{run.scale}** ({options}{generated}; load average {load} before{during}, "
                  f"{load_after} after the memory check)", ""]
        lines += scale_table(run)
        lines.append("")
        if run.substitutions:
            lines += ["Substitutions per same-work page (values read, dates, the account, the CSRF token): "
                      + ", ".join(f"{TITLES.get(k, k)} {n}" for k, n in run.substitutions.items()) + ".", ""]
        for problem in run.problems:
            lines.append(f"- ⚠ {problem}")
        if run.problems:
            lines.append("")
        if run.compared:
            lines += compared_table(run)
    if len(runs) >= 2:
        lines += ["**How cost grows with the data**", "", *growth_table(runs[0], runs[-1]), ""]
    lines += ["**Targets**", "", *targets(runs), ""]
    lines += ["**Commands** (from the repository root; the script runs all of them)", "", "```sh", *commands,
              "```", ""]
    return "\n".join(lines)


def write_readme(readme: Path, text: str) -> None:
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    current = readme.read_text(encoding="utf-8") if readme.exists() else f"# Benchmarks\n\n{start}\n{end}\n"
    if start not in current:
        current += f"\n{start}\n{end}\n"
    head, _sep, rest = current.partition(start)
    _old, _sep, tail = rest.partition(end)
    readme.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")
