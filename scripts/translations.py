"""Extract, update and compile the catalogues: ``make translations``.

Two catalogues live in the repository:

* the plugin's own domain ``mirette_returns``
  (``mirette_returns_plugin/translations/``, strings listed by ``babel.cfg``);
* the demo shop's Flask-Babel domain ``messages``
  (``mirette_returns_plugin/demo/translations/``, strings listed by
  ``babel-demo.cfg``).

For each: the strings are extracted from the code and the templates into the
``.pot`` template, every language's ``.po`` is brought in line with it (new
strings are added untranslated, reworded ones are marked fuzzy, removed ones
are dropped), and the ``.po`` files are compiled into the ``.mo`` files the
package ships. Run it again after translating the new strings in the ``.po``.

A file is only rewritten when its messages changed, so running it on an
up-to-date tree leaves ``git status`` clean. ``tests/test_i18n_catalogue.py``
runs the same extraction and fails when a catalogue is behind the code.

Usage: ``python scripts/translations.py [extract|update|compile|all]``
(``all`` is the default).
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


HEADER_COMMENT = """\
# Translations template for PROJECT, made by `make translations`.
# Copyright (C) YEAR ORGANIZATION
# This file is distributed under the same license as the PROJECT project.
#"""


@dataclass(frozen=True)
class CatalogueSpec:
    """One gettext domain: where its strings are and where its files go."""

    name: str
    #: Babel mapping file (which files, which extractor), relative to ROOT.
    mapping: str
    #: Function names whose string arguments are messages (pybabel ``-k``).
    keywords: tuple[str, ...]
    domain: str
    #: Folder of ``<domain>.pot`` and ``<locale>/LC_MESSAGES/<domain>.po``.
    directory: Path
    #: Languages with a catalogue (English is the source language).
    locales: tuple[str, ...]

    @property
    def pot(self) -> Path:
        return self.directory / f"{self.domain}.pot"

    def po(self, locale: str) -> Path:
        return self.directory / locale / "LC_MESSAGES" / f"{self.domain}.po"

    def mo(self, locale: str) -> Path:
        return self.directory / locale / "LC_MESSAGES" / f"{self.domain}.mo"


PLUGIN = CatalogueSpec(
    name="plugin",
    mapping="babel.cfg",
    keywords=("_", "gettext", "ngettext:1,2", "lazy_gettext", "lazy_ngettext:1,2", "N_",
              "mirette_returns_gettext"),
    domain="mirette_returns",
    directory=ROOT / "mirette_returns_plugin" / "translations",
    locales=("fr",),
)

DEMO = CatalogueSpec(
    name="demo",
    mapping="babel-demo.cfg",
    keywords=("_", "gettext", "ngettext:1,2", "lazy_gettext", "_l", "lazy_ngettext:1,2", "shop_gettext"),
    domain="messages",
    directory=ROOT / "mirette_returns_plugin" / "demo" / "translations",
    locales=("fr",),
)

CATALOGUES: tuple[CatalogueSpec, ...] = (PLUGIN, DEMO)


def extract(spec: CatalogueSpec, output: Path) -> Catalog:
    """Extract ``spec``'s strings from the code and templates into ``output``."""
    arguments = ["pybabel", "--quiet", "extract", "--no-default-keywords", "-F", str(ROOT / spec.mapping),
                 "--add-location=file", "--add-comments=Translators:", "--strip-comments",
                 "--project=mirette-returns", "--copyright-holder=the mirette-returns authors",
                 "--header-comment=" + HEADER_COMMENT, "-o", str(output)]
    for keyword in spec.keywords:
        arguments += ["-k", keyword]
    arguments.append(".")
    # pybabel's own command, run in this interpreter; patterns are relative
    # to the repository's root.
    previous = Path.cwd()
    try:
        os.chdir(ROOT)
        CommandLineInterface().run(arguments)
    finally:
        os.chdir(previous)
    return read_catalog(output)


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def message_keys(catalog: Catalog) -> set[str | tuple[str, ...]]:
    """The messages of ``catalog`` (singular, or singular and plural), header left out."""
    return {message.id for message in catalog if message.id}


def _po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=76, omit_header=False, ignore_obsolete=True,
             include_previous=False, sort_output=False)
    return buffer.getvalue()


def _without_dates(content: bytes) -> bytes:
    """``content`` minus the header lines that change at every run."""
    return b"\n".join(line for line in content.splitlines()
                      if not line.startswith((b'"POT-Creation-Date:', b'"PO-Revision-Date:')))


def _write_if_changed(path: Path, content: bytes) -> bool:
    if path.exists() and _without_dates(path.read_bytes()) == _without_dates(content):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


def update_template(spec: CatalogueSpec) -> bool:
    """Extract into the ``.pot``; ``True`` if it changed."""
    with tempfile.TemporaryDirectory() as folder:
        fresh = Path(folder) / spec.pot.name
        extract(spec, fresh)
        return _write_if_changed(spec.pot, fresh.read_bytes())


#: Plural rules where the traditional gettext one reads better than CLDR's
#: (French has a third CLDR form, for millions, that nobody translates apart).
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);"}


def new_catalogue(spec: CatalogueSpec, locale: str) -> Catalog:
    """An empty catalogue for ``locale``, its header filled in."""
    catalog = Catalog(locale=locale, domain=spec.domain, project="mirette-returns", charset="utf-8",
                      copyright_holder="the mirette-returns authors", fuzzy=False,
                      header_comment="""\
# Translations template for PROJECT.
# Copyright (C) YEAR ORGANIZATION
# This file is distributed under the same license as the PROJECT project.
#""")
    if locale in PLURAL_FORMS:
        catalog.mime_headers = [("Plural-Forms", PLURAL_FORMS[locale])]
    catalog.last_translator = "the mirette-returns authors"
    catalog.language_team = f"{catalog.locale.english_name} (mirette-returns)"
    return catalog


def update_catalogues(spec: CatalogueSpec) -> list[Path]:
    """Bring each language's ``.po`` in line with the ``.pot``; the files changed."""
    template = read_catalog(spec.pot)
    changed = []
    for locale in spec.locales:
        path = spec.po(locale)
        catalog = read_catalog(path, locale) if path.exists() else new_catalogue(spec, locale)
        catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
        if _write_if_changed(path, _po_bytes(catalog)):
            changed.append(path)
    return changed


def compiled(catalog: Catalog) -> bytes:
    """The ``.mo`` of ``catalog``: fuzzy entries are left out, as gettext does."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def placeholder_errors(catalog: Catalog) -> list[str]:
    """Translations whose ``%(name)s`` placeholders do not match the English."""
    problems = []
    for message, errors in catalog.check():
        for error in errors:
            problems.append(f"{message.id!r}: {error}")
    return problems


def compile_catalogues(spec: CatalogueSpec) -> list[Path]:
    """Compile each ``.po`` into its ``.mo``; the files changed."""
    changed = []
    for locale in spec.locales:
        catalog = read_catalog(spec.po(locale), locale)
        problems = placeholder_errors(catalog)
        if problems:
            raise SystemExit(f"{spec.po(locale)}:\n  " + "\n  ".join(problems))
        path = spec.mo(locale)
        content = compiled(catalog)
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
            changed.append(path)
    return changed


def untranslated(spec: CatalogueSpec, locale: str) -> list[str]:
    """Messages of ``locale`` still to translate (missing, empty or fuzzy)."""
    catalog = read_catalog(spec.po(locale), locale)
    todo = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            todo.append(message.id if isinstance(message.id, str) else message.id[0])
    return todo


def main(argv: list[str]) -> int:
    step = argv[0] if argv else "all"
    if step not in ("extract", "update", "compile", "all"):
        print(__doc__)
        return 2
    for spec in CATALOGUES:
        if step in ("extract", "all"):
            print(f"{spec.name}: {spec.pot.relative_to(ROOT)} "
                  f"{'updated' if update_template(spec) else 'unchanged'}")
        if step in ("update", "all"):
            for path in update_catalogues(spec):
                print(f"{spec.name}: {path.relative_to(ROOT)} updated")
        if step in ("compile", "all"):
            for path in compile_catalogues(spec):
                print(f"{spec.name}: {path.relative_to(ROOT)} compiled")
        for locale in spec.locales:
            todo = untranslated(spec, locale) if spec.po(locale).exists() else ["(no catalogue yet)"]
            if todo:
                print(f"{spec.name}: {len(todo)} string(s) to translate in {spec.po(locale).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
