"""The README says only what is true of the code next to it."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.transition_table import markdown

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_shows_the_transition_table_of_the_code():
    assert markdown() in README, "run `python scripts/transition_table.py` and paste it into the README"


def test_the_adapter_sizes_in_the_readme_are_those_the_guide_checks():
    guide = (ROOT / "docs" / "mount.md").read_text(encoding="utf-8")
    sizes = lambda text: re.findall(r"\|\s*(\d+(?:, \d+)?)\s*\|\s*$", text, re.MULTILINE)  # noqa: E731
    assert sizes(README) and sizes(README) == sizes(guide)


def test_every_document_the_readme_links_exists():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README links to a missing {target}"


def test_the_first_screen_holds_the_two_commands():
    first_screen = "\n".join(README.splitlines()[:30])
    assert "make demo" in first_screen and "make test" in first_screen
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.MULTILINE) and re.search(r"^test:", makefile, re.MULTILINE)
