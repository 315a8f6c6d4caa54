"""Where the templates and static files are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    # In a wheel, setup.cfg maps the top-level folder into the package; in a
    # source checkout it sits beside the package.
    installed = _PACKAGE / name
    return installed if installed.is_dir() else _PACKAGE.parent / name


TEMPLATE_FOLDER = _find("templates")
STATIC_FOLDER = _find("static")
