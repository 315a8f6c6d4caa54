"""Print the transition table as Markdown, for the README.

    python scripts/transition_table.py

tests/test_readme.py fails when the README's copy differs from this output.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mirette_returns_plugin.workflow import KIND_LABELS, STATUS_LABELS, TRANSITIONS

ROLE_ORDER = ("buyer", "artist", "support", "shop")


def markdown() -> str:
    rows = ["| step | for | from | to | who |", "| --- | --- | --- | --- | --- |"]
    for transition in TRANSITIONS:
        kinds = ", ".join(KIND_LABELS[k].lower() for k in ("return", "exchange", "cancellation")
                          if k in transition.kinds)
        sources = ", ".join(f"`{s}`" for s in STATUS_LABELS if s in transition.sources)
        target = " or ".join(f"`{t}`" for t in (transition.target, *sorted(transition.also_leads_to)) if t) \
            or "(unchanged)"
        roles = ", ".join(r for r in ROLE_ORDER if r in transition.roles)
        rows.append(f"| `{transition.action}` | {kinds} | {sources} | {target} | {roles} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown())
