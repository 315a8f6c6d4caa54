"""The package's layers, read from its source with ``ast``.

Three rules, each a sign that a module sits where it belongs:

1. **The import graph between the plugin's modules is acyclic.** An import of
   ``a.b`` also runs ``a/__init__.py``, so it counts as an import of ``a``
   too (unless the importer lives inside ``a``).
2. **No function-local imports of the plugin's own modules.** An import
   hidden in a function to dodge a cycle means the layers are wrong: the
   thing imported belongs lower, or the importer higher.
3. **The domain never reaches the web side.** The domain (:data:`DOMAIN`) is
   what a request *is* and how it moves on: statuses and roles, the table of
   steps, creating requests and taking steps, refunds and money, reminders,
   the plugin's tables. The web side (:data:`WEB`) is what only a page
   knows: views, rendering and templates, HTML helpers (links, CSRF,
   htmx), who is signed in (``access.current_user``, ``sign_in``). No
   domain module imports a web module, directly or through others, nor
   ``flask.request`` or ``flask.render_template``.

The mail side (``notifications``, ``emails``, ``delivery``) sits between:
the domain queues a step's emails in the transaction of the step, so it
imports the queueing, which renders the email from the step's row (passed
in, never looked up by name); the mail side imports no workflow module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mirette_returns_plugin"
ROOT = "mirette_returns_plugin"

#: Modules (and packages, with everything under them) of the domain.
DOMAIN = (
    "workflow", "domain", "labels", "telling", "context", "refunds", "models", "reminders", "windows", "money",
    "reasons", "adapter", "errors", "state", "words", "upserts", "user_text", "signals", "photos",
)
#: Modules (and packages) only a page may use.
WEB = ("views", "rendering", "templating", "links", "csrf", "htmx", "sign_in", "access", "outage",
       "poll_keys", "poll_shortcut", "rate_limits", "locales")
#: Names the domain may not import from Flask: they exist only during a web request, or render a page.
FLASK_WEB_NAMES = {"request", "render_template", "render_template_string", "session", "url_for", "redirect"}

#: Modules allowed function-local imports of the plugin's own modules, each
#: with its reason: none, and a module added here must say why.
LOCAL_IMPORTS_ALLOWED: dict[str, str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _resolve(importer: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The plugin's modules an import statement loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.startswith(ROOT)]
    if node.level:
        base = importer.split(".")
        # A package's own __init__ resolves relative to itself, a module to its package.
        base = base if _is_package(importer) else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith(ROOT):
        return []
    found = []
    for alias in node.names:
        submodule = f"{target}.{alias.name}"
        found.append(submodule if submodule in MODULES else target)
    return found


def _with_parents(importer: str, target: str) -> set[str]:
    """``target`` and the packages above it that importing it runs (not the importer's own)."""
    found = {target}
    parts = target.split(".")
    for end in range(2, len(parts)):
        parent = ".".join(parts[:end])
        if not (importer == parent or importer.startswith(parent + ".")):
            found.add(parent)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module loads (not those only a type checker reads)."""
    found = []

    def visit(statements: list[ast.stmt]) -> None:
        for statement in statements:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                found.append(statement)
            elif isinstance(statement, ast.If) and not _is_type_checking(statement):
                visit(statement.body)
                visit(statement.orelse)
            elif isinstance(statement, ast.Try):
                visit(statement.body)
                for handler in statement.handlers:
                    visit(handler.body)
                visit(statement.orelse)
                visit(statement.finalbody)

    visit(tree.body)
    return found


TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}
GRAPH: dict[str, set[str]] = {
    name: {parent for node in _module_level_imports(tree) for target in _resolve(name, node)
           for parent in _with_parents(name, target) if parent != name}
    for name, tree in TREES.items()
}


def _reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in GRAPH.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _within(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == f"{ROOT}.{root}" or name.startswith(f"{ROOT}.{root}.") for root in roots)


def test_the_import_graph_has_no_cycle():
    cycles = sorted(name for name in GRAPH if name in _reachable(name))
    assert not cycles, f"modules that import themselves through others: {cycles}"


def test_no_function_imports_a_module_of_the_plugin():
    found = []
    for name, tree in TREES.items():
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if (isinstance(node, (ast.Import, ast.ImportFrom)) and _resolve(name, node)
                        and name not in LOCAL_IMPORTS_ALLOWED):
                    found.append(f"{name}:{node.lineno}")
    assert not found, f"imports inside functions (move the thing imported to the right layer): {found}"


DOMAIN_MODULES = sorted(name for name in MODULES if _within(name, DOMAIN))


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_the_domain_never_reaches_the_web_side(module):
    reached = sorted(target for target in _reachable(module) if _within(target, WEB))
    assert not reached, f"{module} reaches the web side: {reached}"


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_the_domain_imports_nothing_of_a_web_request_from_flask(module):
    names = {alias.name for node in ast.walk(TREES[module]) if isinstance(node, ast.ImportFrom)
             and node.module in ("flask", "flask.globals", "flask.templating") for alias in node.names}
    assert not names & FLASK_WEB_NAMES, f"{module} imports {sorted(names & FLASK_WEB_NAMES)} from Flask"


def test_the_layer_lists_name_real_modules():
    for root in DOMAIN + WEB:
        assert f"{ROOT}.{root}" in MODULES, root
    for name in LOCAL_IMPORTS_ALLOWED:
        assert name in MODULES, name


def test_the_workflow_modules_stay_small():
    """One job each: a module of the workflow that grows past this is two."""
    for name, path in MODULES.items():
        if _within(name, ("workflow",)):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            assert lines < 400, f"{name}: {lines} lines"


def test_the_mail_side_imports_no_workflow_module():
    for module in ("notifications", "emails", "delivery"):
        reached = sorted(t for t in _reachable(f"{ROOT}.{module}") if _within(t, ("workflow", "refunds", "reminders")))
        assert not reached, f"{module} reaches {reached}"
