"""axe-core in the page under test, its report saved and counted.

axe is served from the test server's own origin (``/test-assets/``, see
``server.py``) and added as a ``<script src>``: the pages keep their strict
Content-Security-Policy (``script-src 'self'``) during the check, so what is
checked is exactly what a visitor gets. (An inline ``add_script_tag`` would be
refused by that policy, and bypassing the policy would check a page no
visitor ever sees.)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from .server import ASSETS, ASSETS_URL

AXE_FILE = next(ASSETS.glob("axe-*.min.js"))
AXE_URL = f"{ASSETS_URL}/{AXE_FILE.name}"
AXE_VERSION = re.sub(r"^axe-(.*)\.min\.js$", r"\1", AXE_FILE.name)

#: Where each page's full report is saved.
REPORTS = Path(__file__).resolve().parents[2] / "test-results" / "axe"

#: Impacts that fail a test.
BLOCKING = ("serious", "critical")

#: One row per page checked in this run, printed at the end (conftest.py).
SUMMARY: list[dict[str, Any]] = []


def check(page: Page, name: str, language: str) -> list[str]:
    """Run axe on ``page`` as it is now; save the report; return one line per
    serious or critical violation."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = REPORTS / f"{language}-{name}.json"
    report.write_text(json.dumps({
        "page": name,
        "language": language,
        "url": page.url,
        "axe": AXE_VERSION,
        "violations": results["violations"],
        "incomplete": results["incomplete"],
        "passes": [rule["id"] for rule in results["passes"]],
    }, indent=2, ensure_ascii=False), encoding="utf-8")
    impacts = Counter(violation["impact"] or "unknown" for violation in results["violations"])
    SUMMARY.append({
        "page": name,
        "language": language,
        "violations": len(results["violations"]),
        "impacts": dict(sorted(impacts.items())),
        "passes": len(results["passes"]),
        "incomplete": len(results["incomplete"]),
        "report": str(report),
    })
    return [
        f"{language} {name}: {violation['impact']} {violation['id']} ({violation['help']}) on "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
    ]
