"""The fuzzing campaign, outside CI: ``make fuzz``.

Runs ``tests/test_hardening_fuzz.py`` with a budget of its own
(``MIRETTE_FUZZ_EXAMPLES``, 10,000 examples by default, shared between every
form, query string and route of the app, as every person) and, instead of
stopping at the first failing example, records each one and searches on. At
the end it prints the cases run, the 5xx answers found and the refused
inputs that changed anything (goal: 0 and 0), and writes every finding (the
endpoint, the input, the traceback) to ``test-results/fuzz-findings.json``.

The database is the test suite's: ``MIRETTE_TEST_DATABASE`` (SQLite unless
set, see docs/install.md). CI keeps the module's short run, in the normal
test suite.

Usage: ``python scripts/fuzz.py [--examples N]``. Exits 1 when anything was
found.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "test-results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the fuzzing campaign of tests/test_hardening_fuzz.py.")
    parser.add_argument("--examples", type=int, default=10_000,
                        help="examples in all, shared between the endpoints (default: 10000)")
    arguments = parser.parse_args(argv)
    if arguments.examples < 1:
        parser.error("--examples must be at least 1")
    RESULTS.mkdir(exist_ok=True)
    report = RESULTS / "fuzz-findings.json"
    report.unlink(missing_ok=True)
    environment = {**os.environ, "MIRETTE_FUZZ_EXAMPLES": str(arguments.examples),
                   "MIRETTE_FUZZ_REPORT": str(report)}
    environment.setdefault("MIRETTE_TEST_DATABASE", "sqlite")
    command = [sys.executable, "-m", "pytest", "tests/test_hardening_fuzz.py", "-q", "-p", "no:cacheprovider",
               "--no-browser"]
    print(f"Fuzzing campaign: {arguments.examples} examples on {environment['MIRETTE_TEST_DATABASE']}", flush=True)
    started = time.monotonic()
    finished = subprocess.run(command, cwd=ROOT, env=environment, check=False)
    minutes = (time.monotonic() - started) / 60
    if not report.exists():
        print(f"The campaign did not finish (pytest exited {finished.returncode}): no report.", file=sys.stderr)
        return 1
    found = json.loads(report.read_text(encoding="utf-8"))
    if not found["finished"]:
        print("The campaign stopped before its end: the counts below are those it reached.", file=sys.stderr)
    for finding in found["findings"]:
        print(f"\n== {finding['kind']} on {finding['endpoint']}\ninput: {finding['input']}\n{finding['traceback']}")
    print(f"\nDatabase:                                    {found['database']}")
    print(f"Cases run:                                   {found['cases']}")
    print(f"  of them refused (each checked unchanged):  {found['refused']}")
    print(f"5xx found:                                   {found['server_errors']}")
    print(f"Inputs that changed anything when refused:   {found['changed_when_refused']}")
    print(f"Other failed expectations:                   {found['other_failures']}")
    print(f"Duration:                                    {minutes:.1f} minutes")
    print(f"Findings, with inputs and tracebacks:        {report.relative_to(ROOT)}")
    clean = found["finished"] and not found["findings"] and finished.returncode == 0
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
