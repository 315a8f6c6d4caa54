"""Fixtures of the browser tests: one Chromium per run, one demo shop and new
browser contexts per test.

Every test here is marked ``browser``; ``pytest --no-browser`` deselects them
(and says so). Chromium is Debian's (``/usr/bin/chromium``, or the path in
``MIRETTE_CHROMIUM``), driven by Playwright through pytest-playwright, whose
``new_context`` keeps traces and screenshots of a failing test when asked
(``--tracing retain-on-failure``, ``--screenshot only-on-failure``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from . import axe
from .server import CHROMIUM, CHROMIUM_ARGS, HTMX_VERSIONS, LiveShop, seed_template, serve

#: Desktop size of every page unless a test asks for another.
DESKTOP = {"width": 1280, "height": 900}

# An expectation waits up to this long for the page to get there (the details
# page polls every second; the machine may be busy). It is a ceiling, not a
# measure: nothing here asserts how fast anything is.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).exists():
        raise pytest.UsageError(
            f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium) or set "
            "MIRETTE_CHROMIUM; pass --no-browser to leave the browser tests out."
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded demo database every shop of the run starts from."""
    return seed_template(tmp_path_factory.mktemp("seeded-shop"))


@pytest.fixture
def shop(request: pytest.FixtureRequest, seeded_database: Path, tmp_path: Path) -> Iterator[LiveShop]:
    """A fresh demo shop on 127.0.0.1. Parametrize it indirectly with
    ``"htmx4"`` (the plugin's own, the default) or ``"htmx2"`` (loaded by the
    shop's layout instead)."""
    htmx = getattr(request, "param", "htmx4")
    assert htmx in HTMX_VERSIONS, htmx
    with serve(seeded_database, tmp_path / "shop", htmx=htmx) as live:
        yield live


class PageProblems:
    """What went wrong on a test's pages, whatever the test looked at:
    script errors, console errors (htmx reports a missing target or a failed
    swap there), Content-Security-Policy refusals, dialogs, and an id used
    twice in a page (a fragment swapped into the wrong element)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.pages: list[Page] = []

    def watch(self, page: Page) -> None:
        self.pages.append(page)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: script error: {error}"))
        page.on("console", lambda message: self._console(page, message))
        page.on("dialog", self._dialog)

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        text = message.text
        # A form refused with 422 (or a stale step with 409) is an answer the
        # page shows, which Chromium also notes in the console.
        expected = text.startswith("Failed to load resource: the server responded with a status of 4")
        if (message.type == "error" and not expected) or text.lower().startswith("htmx"):
            self.errors.append(f"{page.url}: console {message.type}: {text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def check_ids(self) -> None:
        for page in self.pages:
            if page.is_closed():
                continue
            twice = page.evaluate("""() => {
                const seen = new Set(), twice = new Set();
                for (const el of document.querySelectorAll('[id]')) {
                    (seen.has(el.id) ? twice : seen).add(el.id);
                }
                return [...twice];
            }""")
            if twice:
                self.errors.append(f"{page.url}: ids used twice: {twice}")


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def open_page(new_context: Callable[..., Any], shop: LiveShop, page_problems: PageProblems
              ) -> Iterator[Callable[..., Page]]:
    """``open_page(**context_options)``: a page in a new browser context (its
    own cookies: one person), on the shop. At the end, fails the test on any
    of the :class:`PageProblems` of its pages."""

    def open_(**options: Any) -> Page:
        options.setdefault("viewport", DESKTOP)
        context = new_context(base_url=shop.url, **options)
        page = context.new_page()
        page_problems.watch(page)
        return page

    yield open_
    page_problems.check_ids()
    assert not page_problems.errors, "\n".join(page_problems.errors)
    assert not page_problems.dialogs, f"a dialog opened: {page_problems.dialogs}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The axe-core counts, page by page, at the end of the output."""
    if not axe.SUMMARY:
        return
    terminalreporter.section(f"axe-core {axe.AXE_VERSION}: violations per page")
    for row in axe.SUMMARY:
        impacts = ", ".join(f"{impact} {count}" for impact, count in row["impacts"].items()) or "none"
        terminalreporter.write_line(
            f"{row['language']} {row['page']:<24} {row['violations']:>2} violations ({impacts}), "
            f"{row['passes']} rules passed, {row['incomplete']} to review by hand"
        )
    axe.REPORTS.mkdir(parents=True, exist_ok=True)
    summary = axe.REPORTS / "summary.json"
    summary.write_text(json.dumps(axe.SUMMARY, indent=2), encoding="utf-8")
    terminalreporter.write_line(f"reports: {axe.REPORTS}/<language>-<page>.json, counts in {summary}")
