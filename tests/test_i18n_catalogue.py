"""The catalogues follow the code: every string extracted, translated into French, compiled.

The strings are extracted from the code and the templates afresh, exactly as
``make translations`` does (``scripts/translations.py``), and compared with
the committed files by their messages, never by their dates.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo

from tests.i18nkit import NARROW_NBSP, NBSP, translations_tool

tool = translations_tool()

#: French strings allowed to be written as in English.
SAME_IN_FRENCH = {"Message", "Photos", "Total"}

PLACEHOLDER_NAMES = re.compile(r"%\((\w+)\)[sd]")


def _label(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def _listing(title: str, ids) -> str:
    return f"{title}:\n  " + "\n  ".join(repr(_label(i)) for i in sorted(ids, key=_label))


@pytest.fixture(scope="module", params=tool.CATALOGUES, ids=lambda spec: spec.name)
def catalogue(request, tmp_path_factory: pytest.TempPathFactory):
    """``(spec, what the code holds now)`` for the plugin's and the demo's domain."""
    spec = request.param
    fresh = tool.extract(spec, tmp_path_factory.mktemp(spec.name) / spec.pot.name)
    return spec, fresh


def _french(spec) -> Catalog:
    return tool.read_catalog(spec.po("fr"), "fr")


def test_the_extraction_finds_the_strings_of_code_and_templates(catalogue) -> None:
    spec, fresh = catalogue
    found = {_label(message.id) for message in fresh if message.id}
    where = {location[0] for message in fresh for location in message.locations}
    # Python and Jinja both reached, so a broken mapping cannot pass as "nothing new".
    assert any(path.endswith(".py") for path in where)
    assert any(path.endswith(".html") for path in where)
    if spec.name == "plugin":
        assert {"Return Request", "See details", "Submit a request", "Request return",
                "Product received - reimbursement can be initiated", "Wrong product received"} <= found
        assert any(path.endswith(".txt") for path in where), "the plain-text emails"
        assert not any("/demo/" in path for path in where), "the demo's words belong to its own catalogue"
    else:
        assert {"Switch account", "My orders", "Mailbox"} <= found


def test_the_committed_template_is_not_stale(catalogue) -> None:
    spec, fresh = catalogue
    committed = tool.message_keys(tool.read_catalog(spec.pot))
    now = tool.message_keys(fresh)
    problems = []
    if now - committed:
        problems.append(_listing("strings of the code missing from the template", now - committed))
    if committed - now:
        problems.append(_listing("strings of the template no longer in the code", committed - now))
    assert not problems, f"{spec.pot}: run `make translations`.\n" + "\n".join(problems)


def test_french_translates_every_string_of_the_code(catalogue) -> None:
    spec, fresh = catalogue
    french = _french(spec)
    now = tool.message_keys(fresh)
    by_id = {message.id: message for message in french if message.id}
    missing = now - set(by_id)
    stale = set(by_id) - now
    untranslated = [message.id for message in by_id.values()
                    if not all(message.string if isinstance(message.string, tuple) else (message.string,))]
    fuzzy = [message.id for message in by_id.values() if message.fuzzy]
    problems = []
    if missing:
        problems.append(_listing("missing from the French catalogue", missing))
    if stale:
        problems.append(_listing("in the French catalogue but no longer in the code", stale))
    if untranslated:
        problems.append(_listing("not translated", untranslated))
    if fuzzy:
        problems.append(_listing("fuzzy (check the translation, then remove the flag)", fuzzy))
    assert not problems, f"{spec.po('fr')}: run `make translations`, then translate.\n" + "\n".join(problems)


def test_french_plurals_use_the_french_rule(catalogue) -> None:
    spec, _ = catalogue
    french = _french(spec)
    # 0 and 1 are singular in French ("0 article", "1 article", "2 articles").
    assert french.num_plurals == 2
    assert french.plural_expr.replace(" ", "") == "(n>1)"
    plurals = [message for message in french if message.id and isinstance(message.id, tuple)]
    assert plurals, "the catalogue has plural strings"
    for message in plurals:
        assert len(message.string) == 2 and all(message.string), message.id


def test_translations_keep_the_placeholders(catalogue) -> None:
    spec, _ = catalogue
    french = _french(spec)
    assert tool.placeholder_errors(french) == []
    problems = []
    for message in french:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER_NAMES.findall(ids[-1])) - {"num"}
        for string in strings:
            # A singular may say "one" instead of %(num)s; every other value is kept.
            if set(PLACEHOLDER_NAMES.findall(string)) - {"num"} != wanted:
                problems.append(f"{ids[0]!r} -> {string!r}")
    assert problems == []


def test_french_is_written_in_french(catalogue) -> None:
    spec, _ = catalogue
    same, typography = [], []
    for message in _french(spec):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english, string in zip(ids, strings, strict=True):
            if string == english and string not in SAME_IN_FRENCH:
                same.append(english)
            # French typography: a no-break space before : ; ? ! and inside
            # « », never English quotes.
            if re.search(r"[^\u00a0\u202f][:;?!](\s|$)", string) and "://" not in string:
                typography.append(string)
            if re.search(r"[“”\"]", string) or "« " in string or " »" in string:
                typography.append(string)
    assert same == [], "translate these, or add them to SAME_IN_FRENCH if French writes them so"
    assert typography == []


def test_the_key_words_read_as_a_french_marketplace_writes_them() -> None:
    french = {message.id: message.string for message in _french(tool.PLUGIN) if message.id}
    assert french["Return Request"] == "Demande de retour"
    assert french["See details"] == "Voir le détail"
    assert french["Submit a request"] == "Envoyer la demande"
    assert french["Request return"] == "Demander un retour"
    assert french["Product received - reimbursement can be initiated"] == "Produit reçu – remboursement possible"
    # One word for the seller everywhere: "l'artiste".
    assert not [string for string in french.values() if "artisan" in str(string).lower()]
    assert french["Only %(who)s can do this."].startswith("Seul ")
    assert french[("%(num)s item", "%(num)s items")] == ("%(num)s article", "%(num)s articles")
    assert french["Status:"] == f"Statut{NBSP}:"
    assert french["%(percent)s%% of the items' price"] == f"%(percent)s{NARROW_NBSP}%% du prix des articles"


def test_each_compiled_catalogue_is_its_current_po(catalogue) -> None:
    spec, _ = catalogue
    for locale in spec.locales:
        french = tool.read_catalog(spec.po(locale), locale)
        expected = {
            message.id: message.string for message in french
            if message.id and not message.fuzzy
            and all(message.string if isinstance(message.string, tuple) else (message.string,))
        }
        with Path(spec.mo(locale)).open("rb") as handle:
            compiled = read_mo(handle)
        shipped = {_hashable(message.id): _hashable(message.string) for message in compiled if message.id}
        assert shipped == expected, f"{spec.mo(locale)} is older than its .po: run `make translations`"
        plural_forms = dict(compiled.mime_headers).get("Plural-Forms", "")
        assert plural_forms.replace(" ", "") == "nplurals=2;plural=(n>1);"


def test_the_wheel_ships_the_compiled_catalogues() -> None:
    setup = (tool.ROOT / "setup.cfg").read_text()
    package_data = re.search(r"\[options\.package_data\]\n(.*?)\n\n", setup, re.S).group(1)
    assert "translations/*/LC_MESSAGES/*.mo" in package_data
    assert "demo/translations/*/LC_MESSAGES/*.mo" in package_data
    for spec in tool.CATALOGUES:
        assert spec.mo("fr").is_file()


def test_running_the_tool_on_an_up_to_date_tree_changes_nothing(tmp_path: Path) -> None:
    # What `make translations` would write, compared with what is committed:
    # a clean tree stays clean (no date-only churn in git).
    for spec in tool.CATALOGUES:
        fresh = tmp_path / f"{spec.name}.pot"
        tool.extract(spec, fresh)
        assert tool._without_dates(fresh.read_bytes()) == tool._without_dates(spec.pot.read_bytes()), (
            f"{spec.pot} is not what `make translations` writes"
        )
        for locale in spec.locales:
            catalog = tool.read_catalog(spec.po(locale), locale)
            catalog.update(tool.read_catalog(spec.pot), no_fuzzy_matching=False, update_header_comment=False)
            assert tool._without_dates(tool._po_bytes(catalog)) == tool._without_dates(spec.po(locale).read_bytes())
