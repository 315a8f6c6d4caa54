"""The wheel carries everything a shop needs, and works installed outside the repository.

Slow (it builds a wheel and a virtual environment, with the package registry
reachable): deselect with ``-m "not slow"`` for a quick local run.
"""

from __future__ import annotations

import ast
import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from mirette_returns_plugin import migrate
from scripts import lowest_constraints

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGE = "mirette_returns_plugin"
# What a fresh clone would not hold (or the build must not see).
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", ".venv-lowest", "venv", "instance", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
    ".pytest_cache", ".hypothesis", "test-results", "*.sqlite3", "node_modules",
)


def setup_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(REPOSITORY / "setup.cfg")
    return parser


def listed_packages() -> set[str]:
    return set(setup_cfg()["options"]["packages"].split())


def source_files(folder: Path) -> set[str]:
    """Files under ``folder`` a wheel must carry, relative to it, with ``/``."""
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_every_sub_package_is_listed_in_setup_cfg() -> None:
    """``packages`` is listed by hand: a forgotten folder would be left out of the wheel."""
    folders_with_code = {
        path.parent for path in (REPOSITORY / PACKAGE).rglob("*.py") if "__pycache__" not in path.parts
    }
    for folder in folders_with_code:
        assert (folder / "__init__.py").is_file(), f"{folder} holds Python code but no __init__.py"
    packages = {".".join(folder.relative_to(REPOSITORY).parts) for folder in folders_with_code}
    missing = packages - listed_packages()
    assert missing == set(), f"add to [options] packages in setup.cfg: {sorted(missing)}"


def test_dependencies_have_lower_bounds_only() -> None:
    options = setup_cfg()
    requirements = options["options"]["install_requires"].split("\n")
    for name, extra in options["options.extras_require"].items():
        # The checkers are pinned: a new release's new rules must not turn CI
        # red on code that did not change. No shop installs that extra.
        if name != "typecheck":
            requirements += extra.split("\n")
    for requirement in filter(None, (line.strip() for line in requirements)):
        operators = re.findall(r"(~=|===|==|!=|<=|>=|<|>)", requirement)
        assert operators == [">="], f"{requirement!r}: give a lower bound only (>=)"


def distribution_key(name: str) -> str:
    """A distribution's name as pip compares them: ``Flask_SQLAlchemy`` is ``flask-sqlalchemy``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """Top-level modules imported anywhere in ``folder``'s code (in functions too), with the files."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path.relative_to(REPOSITORY).as_posix())
    return found


def optional_extras() -> set[str]:
    """Distribution keys of the extras a shop may install (tests, load and the checkers left out)."""
    extras = setup_cfg()["options.extras_require"]
    return {
        distribution_key(re.match(r"[A-Za-z0-9_.-]+", line.strip()).group(0))
        for name, lines in extras.items() if name not in ("test", "load", "typecheck")
        for line in lines.splitlines() if line.strip() and not line.strip().startswith("#")
    }


def test_the_lowest_constraints_cover_every_package_the_code_imports() -> None:
    """An import of a package setup.cfg does not declare fails here, not in a shop.

    The demo shop is left out: a shop never imports it, and the one package
    it adds (psycopg, on PostgreSQL only) is the ``postgresql`` extra.
    """
    modules = imported_modules(REPOSITORY / PACKAGE)
    for module in list(modules):
        files = {name for name in modules[module] if not name.startswith(f"{PACKAGE}/demo/")}
        if files and module not in sys.stdlib_module_names and module != PACKAGE:
            modules[module] = files
        else:
            del modules[module]
    assert {"flask", "werkzeug", "click", "jinja2", "babel", "wtforms", "PIL"} <= set(modules)
    distributions = packages_distributions()
    pinned = {distribution_key(name) for name in lowest_constraints.floors()}
    # The optional extras (an object store, Celery, a database driver) are
    # declared too: their modules import them only when a shop installs them.
    pinned |= optional_extras()
    undeclared = {
        module: sorted(files)
        for module, files in modules.items()
        if not {distribution_key(name) for name in distributions.get(module, [module])} & pinned
    }
    assert undeclared == {}, f"declare these in setup.cfg's install_requires, with a tested floor: {undeclared}"


def test_the_lowest_constraints_pin_each_runtime_requirement_to_its_floor(tmp_path: Path) -> None:
    written = tmp_path / "constraints.txt"
    ran = subprocess.run([sys.executable, str(REPOSITORY / "scripts" / "lowest_constraints.py"), str(written)],
                         capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    lines = written.read_text().splitlines()
    assert "Flask==3.0" in lines and "Werkzeug==3.0" in lines and "click==8.1.3" in lines
    assert len(lines) == len(setup_cfg()["options"]["install_requires"].split())

    # A requirement without a floor would leave the lowest run free to pick any version.
    broken = tmp_path / "setup.cfg"
    broken.write_text("[options]\ninstall_requires =\n    Flask>=3.0\n    Pillow\n")
    with pytest.raises(ValueError, match="'Pillow' needs exactly one lower bound"):
        lowest_constraints.floors(broken)


def test_the_install_guide_lists_each_declared_floor() -> None:
    guide = (REPOSITORY / "docs" / "install.md").read_text()
    table = guide.split("## Supported versions", 1)[1].split("\n\n")[2]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    listed = {package: floor for package, floor, _ in rows}
    python = setup_cfg()["options"]["python_requires"].removeprefix(">=")
    assert listed == {"Python": python, **lowest_constraints.floors()}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built, as a user would, from a copy of the source tree."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(REPOSITORY, source, ignore=NOT_IN_A_CLONE)
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (work / "build.log").write_text(built.stdout + built.stderr)
    [wheel_file] = (work / "dist").glob("mirette_returns-*.whl")
    return wheel_file


#: How setuptools and ``build`` flag a problem: a warning class
#: (``SetuptoolsDeprecationWarning``), a ``WARNING`` line, or the ``!!`` banner
#: around a long warning.
BUILD_WARNING = re.compile(r"\b\w+Warning\b|^WARNING\b|^\s*!!\s*$", re.MULTILINE)


@pytest.mark.slow
def test_building_the_package_prints_no_warnings(wheel: Path) -> None:
    """What a shop developer sees on ``pip install -v`` or ``python -m build``: no warnings to wonder about."""
    log = (wheel.parent.parent / "build.log").read_text()
    found = sorted({match.group(0).strip() for match in BUILD_WARNING.finditer(log)})
    assert found == [], "\n".join(line for line in log.splitlines() if BUILD_WARNING.search(line))[:3000]


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.slow
def test_the_wheel_carries_templates_static_files_migrations_and_types(wheel: Path) -> None:
    names = wheel_names(wheel)

    # The top-level templates/ and static/ land inside the package.
    for folder in ("templates", "static"):
        expected = {f"{PACKAGE}/{folder}/{name}" for name in source_files(REPOSITORY / folder)}
        assert expected, folder
        assert expected - names == set(), f"missing from the wheel: {sorted(expected - names)}"
    assert f"{PACKAGE}/templates/mirette_returns/base.html" in names
    assert f"{PACKAGE}/static/mirette_returns/htmx-4.0.1.min.js" in names
    assert f"{PACKAGE}/py.typed" in names
    for part in ("env.py", "script.py.mako", "versions/mirette_returns_0001_initial_tables.py"):
        assert f"{PACKAGE}/migrations/{part}" in names

    # Everything in the package folder ships: code, the demo's templates and
    # static files, translations, migrations.
    expected = {f"{PACKAGE}/{name}" for name in source_files(REPOSITORY / PACKAGE)}
    assert expected - names == set(), f"missing from the wheel: {sorted(expected - names)}"
    translations = [name for name in names if name.startswith(f"{PACKAGE}/translations/")]
    for catalogue in (REPOSITORY / PACKAGE / "translations").glob("*/LC_MESSAGES/*.mo"):
        assert f"{PACKAGE}/{catalogue.relative_to(REPOSITORY / PACKAGE).as_posix()}" in translations

    # The benchmarks' data generator stays in the repository.
    assert not [name for name in names if "generate" in name.rsplit("/", 1)[-1]], sorted(names)
    assert not any(name.startswith(("benchmarks/", "load/")) for name in names)

    # Only the package: no tests, no top-level folders of the repository.
    top_level = {name.split("/")[0] for name in names} - {PACKAGE}
    assert len(top_level) == 1 and top_level.pop().endswith(".dist-info")
    # The licence travels with the package, and the metadata names it.
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), sorted(names)[-10:]


@pytest.mark.slow
def test_the_wheel_declares_lower_bounded_dependencies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        [metadata_name] = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [line for line in requires if "extra ==" not in line]
    assert "License-Expression: BSD-3-Clause" in metadata.splitlines()
    assert {re.split(r"[<>=!~\[ ]", line)[0].lower() for line in runtime} >= {
        "flask", "flask-sqlalchemy", "sqlalchemy", "alembic", "flask-babel", "flask-mail", "flask-wtf", "pillow",
    }
    for line in runtime:
        assert "<" not in line and "==" not in line, line


INSTALLED_SHOP = '''
import json
import sys
from pathlib import Path

import sqlalchemy as sa

import mirette_returns_plugin
from mirette_returns_plugin import migrate, templating
from mirette_returns_plugin.demo import create_app
from mirette_returns_plugin.demo.models import Account, ShopOrder, db

folder = Path(sys.argv[1])
# The demo shop the wheel ships; on its first start it runs the plugin's
# migrations and seeds its orders.
app = create_app({
    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'shop.sqlite3'}",
    "MIRETTE_RETURNS_PHOTO_DIR": str(folder / "photos"),
    "MAIL_SUPPRESS_SEND": True,
    "MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT": False,
    "TESTING": True,  # an error in the page shows in stderr, not as a bare 500
})
with app.app_context():
    buyer = db.session.scalar(sa.select(Account.id).where(Account.email == "camille@buyers.example"))
    order = db.session.scalar(sa.select(ShopOrder.id).where(ShopOrder.number == "MIR-1004"))
    revision = migrate.current()

client = app.test_client()
with client.session_transaction() as session:
    session["account_id"] = buyer
page = client.get(f"/returns/orders/{order}")
htmx = client.get("/returns/static/mirette_returns/htmx-4.0.1.min.js")
print(json.dumps({
    "htmx": [htmx.status_code, len(htmx.get_data())],
    "package": mirette_returns_plugin.__file__,
    "templates": str(templating.TEMPLATE_FOLDER),
    "static": str(templating.STATIC_FOLDER),
    "revision": revision,
    "status": page.status_code,
    "html": page.get_data(as_text=True),
}))
'''


@pytest.fixture(scope="module")
def installed_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The interpreter of a new virtual environment holding only the wheel and its dependencies."""
    environment = tmp_path_factory.mktemp("installed") / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)], capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    yield python


@pytest.mark.slow
def test_the_installed_wheel_renders_the_plugin_pages_outside_the_repository(
    installed_python: Path, tmp_path: Path
) -> None:
    script = tmp_path / "installed_shop.py"
    script.write_text(INSTALLED_SHOP)
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    ran = subprocess.run(
        [str(installed_python), str(script), str(tmp_path)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr[-5000:]
    result = json.loads(ran.stdout.strip().splitlines()[-1])

    site_packages = installed_python.parent.parent
    for place in ("package", "templates", "static"):
        assert Path(result[place]).is_relative_to(site_packages), (place, result[place])
        assert not Path(result[place]).is_relative_to(REPOSITORY), (place, result[place])
    # The installed package's migrations reach the newest revision of the source tree.
    assert result["revision"] == migrate.heads()[0]
    assert result["status"] == 200, result["html"][:2000]
    html = result["html"]
    assert "MIR-1004" in html
    assert "Speckled mug" in html
    # The plugin's head block put its stylesheet and htmx in the page, and the
    # installed package serves them.
    assert "/returns/static/mirette_returns/" in html
    status, size = result["htmx"]
    assert status == 200
    assert size == (REPOSITORY / "static" / "mirette_returns" / "htmx-4.0.1.min.js").stat().st_size
