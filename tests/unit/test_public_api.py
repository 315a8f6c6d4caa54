"""The demo and the example shops mount the plugin like any shop: they import
only what the docs give a shop (docs/mount.md, "Requests from your own code").

Read from their source, so a new import of the plugin's internals fails here
however the module is reached.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mirette_returns_plugin

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "mirette_returns_plugin"
DEMO = f"{PACKAGE}.demo"

#: The modules the docs tell a shop to import from, besides the package itself:
#: the ready adapter and its maps, the signals, the migrations, the sign-in
#: helpers, the reason catalogue and the Celery tasks.
PUBLIC_MODULES = {"sqla_adapter", "signals", "migrate", "sign_in", "reasons", "celery_tasks"}
#: What the package itself exports (its ``__all__``, as docs/mount.md says).
PUBLIC_NAMES = set(mirette_returns_plugin.__all__)

#: The demo's generator of large databases writes the plugin's tables
#: directly, for the benchmarks: it is not part of the shop.
NOT_THE_SHOP = {ROOT / PACKAGE / "demo" / "generate.py"}


def shop_sources() -> list[Path]:
    files = sorted((ROOT / PACKAGE / "demo").rglob("*.py")) + sorted((ROOT / "examples").rglob("*.py"))
    return [path for path in files if path not in NOT_THE_SHOP]


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of_the_plugin(path: Path) -> list[tuple[int, str, str | None]]:
    """``(line, module, name)`` of every import of the plugin outside the demo;
    ``name`` is ``None`` for ``import module``."""
    module = module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            found.extend((node.lineno, target, alias.name) for alias in node.names)
    return [(line, target, name) for line, target, name in found
            if (target == PACKAGE or target.startswith(PACKAGE + "."))
            and not (target == DEMO or target.startswith(DEMO + "."))
            and not (target == PACKAGE and name == "demo")]


def private_use(target: str, name: str | None) -> str | None:
    """Why this import reaches past the public API, or ``None``."""
    if target == PACKAGE:
        if name is None or name in PUBLIC_NAMES or name in PUBLIC_MODULES:
            return None
        return f"{name} is not exported by {PACKAGE}"
    module = target[len(PACKAGE) + 1:]
    if module.split(".")[0] in PUBLIC_MODULES:
        return None
    return f"{target} is not a public module"


@pytest.mark.parametrize("path", shop_sources(), ids=lambda path: str(path.relative_to(ROOT)))
def test_the_shops_import_only_the_public_api(path: Path) -> None:
    problems = [f"line {line}: {reason}" for line, target, name in imports_of_the_plugin(path)
                if (reason := private_use(target, name))]
    assert not problems, f"{path.relative_to(ROOT)} reaches into the plugin: {problems}"


def test_the_check_sees_relative_imports_of_internals() -> None:
    """The demo reaches the plugin by ``from .. import``: those count too."""
    assert private_use(f"{PACKAGE}.workflow", "perform") == f"{PACKAGE}.workflow is not a public module"
    assert private_use(PACKAGE, "workflow") == "workflow is not exported by mirette_returns_plugin"
    demo_init = ROOT / PACKAGE / "demo" / "__init__.py"
    assert (PACKAGE, "MiretteReturns") in {(t, n) for _line, t, n in imports_of_the_plugin(demo_init)}


def test_every_public_name_is_importable() -> None:
    for name in PUBLIC_NAMES:
        assert getattr(mirette_returns_plugin, name) is not None, name
