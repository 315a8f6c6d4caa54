"""Pin every runtime dependency to its declared floor: ``make test-lowest``.

Reads ``install_requires`` from ``setup.cfg`` and writes a pip constraints
file with one ``name==floor`` line per requirement, so that
``pip install -c constraints.txt -e '.[test]'`` installs exactly the oldest
versions the package says it supports, and the suite proves they work.

Every runtime requirement must be a plain ``name>=version``
(``tests/test_packaging.py`` checks it): a requirement without a floor would
leave the lowest run free to pick any version, so it is refused here.

Usage: ``python scripts/lowest_constraints.py [OUTPUT]`` (standard output
when no file is named). ``--installed``, run by the interpreter of the
lowest environment, lists what it holds of each dependency and fails unless
that is exactly the floor (a stale environment would prove nothing).
"""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
# A distribution name, optional extras, then the one lower bound.
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*>=\s*(?P<floor>[0-9][0-9A-Za-z.]*)$")


def runtime_requirements(setup_cfg: Path = REPOSITORY / "setup.cfg") -> list[str]:
    """The lines of ``[options] install_requires``, comments and blanks left out."""
    parser = configparser.ConfigParser()
    parser.read(setup_cfg)
    lines = (line.split("#", 1)[0].strip() for line in parser["options"]["install_requires"].splitlines())
    return [line for line in lines if line]


def floors(setup_cfg: Path = REPOSITORY / "setup.cfg") -> dict[str, str]:
    """Each runtime dependency's distribution name and its declared floor."""
    pinned: dict[str, str] = {}
    for requirement in runtime_requirements(setup_cfg):
        match = REQUIREMENT.match(requirement)
        if match is None:
            raise ValueError(f"setup.cfg: {requirement!r} needs exactly one lower bound, as name>=version")
        pinned[match["name"]] = match["floor"]
    return pinned


def constraints(setup_cfg: Path = REPOSITORY / "setup.cfg") -> str:
    return "".join(f"{name}=={floor}\n" for name, floor in floors(setup_cfg).items())


def installed() -> int:
    """Print what the running environment holds of the runtime dependencies.

    The declared ones first, each of which must be exactly its floor (1 is
    returned otherwise), then those they bring along (not pinned: the newest
    that fits).
    """
    from importlib.metadata import PackageNotFoundError, distribution, version

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    wrong = 0
    declared = floors()
    for name, floor in declared.items():
        try:
            found = version(name)
        except PackageNotFoundError:
            found = "not installed"
        exact = found != "not installed" and Version(found) == Version(floor)
        wrong += not exact
        print(f"  {name}=={found}" + ("" if exact else f"   (declared floor: {floor})"))

    # What the declared ones require in turn, extras (tests, drivers) left out.
    seen = {canonicalize_name(name) for name in declared}
    waiting = list(declared)
    brought: dict[str, str] = {}
    while waiting:
        try:
            requirements = distribution(waiting.pop()).requires or []
        except PackageNotFoundError:
            continue
        for line in requirements:
            requirement = Requirement(line)
            key = canonicalize_name(requirement.name)
            if key in seen or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
                continue
            seen.add(key)
            waiting.append(requirement.name)
            try:
                brought[distribution(requirement.name).metadata["Name"]] = version(requirement.name)
            except PackageNotFoundError:
                pass
    if brought:
        print("  with, at the newest version that fits: "
              + ", ".join(f"{name}=={found}" for name, found in sorted(brought.items(), key=lambda i: i[0].lower())))
    return 1 if wrong else 0


def main(arguments: list[str]) -> int:
    if arguments == ["--installed"]:
        return installed()
    text = constraints()
    if arguments:
        Path(arguments[0]).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
