# Every target documents itself with a "## " comment: `make help` lists them.

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 5000

VENV_BIN := $(VENV)/bin
DEMO := $(VENV_BIN)/flask --app mirette_returns_plugin.demo

.DEFAULT_GOAL := help
.PHONY: help demo demo-reset

help: ## List the targets
	@echo "Usage: make <target> [PORT=5000]"
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-16s %s\n", $$1, $$2}'

# The virtual environment, with the package installed in editable mode; made
# again when the package's requirements change.
$(VENV)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "mirette-returns needs Python 3.10 or newer; run: make demo PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(VENV_BIN)/python -m pip install --quiet --editable .
	@touch $@

demo: $(VENV)/.installed ## Run the demo shop on http://127.0.0.1:5000 (PORT=8000 to change; SQLite, seeded on first start)
	@echo "Mirette demo shop: http://$(HOST):$(PORT)/  (Ctrl+C to stop; 'make demo-reset' to start over)"
	DEMO_BASE_URL=http://$(HOST):$(PORT) $(DEMO) run --host $(HOST) --port $(PORT)

demo-reset: $(VENV)/.installed ## Empty the demo's database and seed it again
	DEMO_BASE_URL=http://$(HOST):$(PORT) $(DEMO) demo-reset --yes

# --- Tests -------------------------------------------------------------------
# The database comes from MIRETTE_TEST_DATABASE (see docs/install.md); extra
# pytest arguments from PYTEST_ARGS, e.g. make test-sqlite PYTEST_ARGS='-x -k refund'.

PYTEST_ARGS ?=
# Bytecode written even where PYTHONDONTWRITEBYTECODE is set: pytest keeps each
# test module with its asserts rewritten beside it, which both processes of
# the run (and the next run) read instead of parsing ~180 modules anew.
PYTEST := PYTHONDONTWRITEBYTECODE= $(VENV_BIN)/python -m pytest
# The slow tests build and install a wheel, and the browser tests serve the
# demo on a SQLite file of their own: the same on every database, so the
# server runs leave them to the SQLite run.
SERVER_ONLY := -m "not slow and not browser"

.PHONY: test test-fast test-sqlite test-postgresql test-mariadb test-lowest

# The SQLite run spreads its tests over this many processes (pytest-xdist);
# WORKERS=0 runs them in one. Three on two cores: the browser tests wait on
# Chromium. Within `make test`, which runs four suites side by side, two.
WORKERS ?= 3
TEST_WORKERS ?= 2

$(VENV)/.test-installed: $(VENV)/.installed
	$(VENV_BIN)/python -m pip install --quiet --editable '.[test]'
	@touch $@

test: $(VENV)/.test-installed ## Run the tests on SQLite, PostgreSQL and MariaDB, and on the lowest versions (fails if any fails)
	@# The four runs go side by side (each is one process; two cores and the
	@# database servers' waits keep them busy); the other runs' output is
	@# printed when they end, each with its own pytest summary.
	@mkdir -p test-results
	@status=0; \
	$(MAKE) --no-print-directory test-postgresql > test-results/postgresql.log 2>&1 & postgresql=$$!; \
	$(MAKE) --no-print-directory test-mariadb > test-results/mariadb.log 2>&1 & mariadb=$$!; \
	$(MAKE) --no-print-directory test-lowest > test-results/lowest.log 2>&1 & lowest=$$!; \
	$(MAKE) --no-print-directory test-sqlite WORKERS=$(TEST_WORKERS) || status=1; \
	wait $$postgresql || status=1; cat test-results/postgresql.log; \
	wait $$mariadb || status=1; cat test-results/mariadb.log; \
	wait $$lowest || status=1; cat test-results/lowest.log; \
	if [ $$status -ne 0 ]; then echo "== some tests failed (see above)"; fi; \
	exit $$status

test-fast: $(VENV)/.test-installed ## Run the unit layer alone: rules and services on a bare app and a tiny shop (under a minute)
	@echo "== unit tests (tests/unit)"
	$(PYTEST) -m unit tests/unit $(PYTEST_ARGS)

test-sqlite: $(VENV)/.test-installed ## Run the tests on SQLite only (the quick local run; WORKERS=3 processes)
	@echo "== tests on SQLite"
	MIRETTE_TEST_DATABASE=sqlite $(PYTEST) -n $(WORKERS) $(PYTEST_ARGS)

test-postgresql: $(VENV)/.test-installed ## Run the tests on PostgreSQL only
	@echo "== tests on PostgreSQL"
	MIRETTE_TEST_DATABASE=postgresql $(PYTEST) $(SERVER_ONLY) --output=test-results/playwright-postgresql $(PYTEST_ARGS)

test-mariadb: $(VENV)/.test-installed ## Run the tests on MariaDB only
	@echo "== tests on MariaDB"
	MIRETTE_TEST_DATABASE=mariadb $(PYTEST) $(SERVER_ONLY) --output=test-results/playwright-mariadb $(PYTEST_ARGS)

# The lowest run: the suite once more, on SQLite, with every runtime
# dependency at the floor setup.cfg declares (docs/install.md, "Supported
# versions"), in an environment of its own made afresh when setup.cfg changes.
LOWEST_VENV ?= .venv-lowest
LOWEST_CONSTRAINTS := $(LOWEST_VENV)/constraints.txt
# Left out there, because they do not depend on the runtime versions:
# Chromium drives the same pages as the other tests; the slow tests build a
# wheel and install its newest dependencies; the catalogue tests run pybabel's
# extraction, which writes its own version into the .pot and which, before
# Babel 2.19, also extracts the key of _(SUBJECTS["message"]).
LOWEST_LEAVES_OUT := --no-browser -m "not slow" \
	--deselect tests/test_i18n_catalogue.py::test_the_committed_template_is_not_stale \
	--deselect tests/test_i18n_catalogue.py::test_french_translates_every_string_of_the_code \
	--deselect tests/test_i18n_catalogue.py::test_running_the_tool_on_an_up_to_date_tree_changes_nothing

$(LOWEST_VENV)/.installed: setup.cfg pyproject.toml scripts/lowest_constraints.py
	rm -rf $(LOWEST_VENV)
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(PYTHON) scripts/lowest_constraints.py $(LOWEST_CONSTRAINTS)
	$(LOWEST_VENV)/bin/python -m pip install --quiet --constraint $(LOWEST_CONSTRAINTS) --editable '.[test]'
	@touch $@

test-lowest: $(LOWEST_VENV)/.installed ## Run the tests on SQLite with the lowest declared version of every dependency
	@echo "== tests on SQLite, lowest versions (pinned by $(LOWEST_CONSTRAINTS)):"
	@$(LOWEST_VENV)/bin/python scripts/lowest_constraints.py --installed
	@echo "   left out here: the browser tests, the slow (wheel) tests and pybabel's extraction"
	@echo "   (they do not depend on the runtime versions; the newest-versions run has them)"
	MIRETTE_TEST_DATABASE=sqlite $(LOWEST_VENV)/bin/python -m pytest $(LOWEST_LEAVES_OUT) --output=test-results/playwright-lowest $(PYTEST_ARGS)

# --- Types and lint ------------------------------------------------------------
# mypy --strict over the package and ruff over every Python file, as
# configured in pyproject.toml; the checkers' versions are pinned by the
# "typecheck" extra in setup.cfg.

.PHONY: typecheck lint

$(VENV)/.typecheck-installed: $(VENV)/.installed
	$(VENV_BIN)/python -m pip install --quiet --editable '.[typecheck]'
	@touch $@

typecheck: $(VENV)/.typecheck-installed ## Check the package's types (mypy --strict)
	$(VENV_BIN)/mypy

lint: $(VENV)/.typecheck-installed ## Lint every Python file of the repository (ruff)
	$(VENV_BIN)/ruff check

# --- Languages ---------------------------------------------------------------
# pybabel's extract, update and compile, for the plugin's catalogue and the
# demo shop's (see docs/languages.md). Rewrites a file only when its strings
# changed; lists what is left to translate.

.PHONY: translations

translations: $(VENV)/.installed ## Extract the strings into the .pot files, update the .po files, compile the .mo files
	$(VENV_BIN)/python scripts/translations.py

# --- Fuzzing -----------------------------------------------------------------
# The campaign of tests/test_hardening_fuzz.py at a budget of its own, outside
# CI (which keeps the module's short run); see docs/reliability.md.

FUZZ_EXAMPLES ?= 10000

.PHONY: fuzz

fuzz: $(VENV)/.test-installed ## Fuzz every form, query and route as every person: 10,000 cases (FUZZ_EXAMPLES=N), prints 5xx and changes
	$(VENV_BIN)/python scripts/fuzz.py --examples $(FUZZ_EXAMPLES)
