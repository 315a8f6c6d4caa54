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
PYTEST := $(VENV_BIN)/python -m pytest
# The slow tests build and install a wheel, and the browser tests serve the
# demo on a SQLite file of their own: the same on every database, so the
# server runs leave them to the SQLite run.
SERVER_ONLY := -m "not slow and not browser"

.PHONY: test test-sqlite test-postgresql test-mariadb

$(VENV)/.test-installed: $(VENV)/.installed
	$(VENV_BIN)/python -m pip install --quiet --editable '.[test]'
	@touch $@

test: $(VENV)/.test-installed ## Run the tests on SQLite, PostgreSQL and MariaDB (fails if any fails)
	@# The three runs go side by side (each is one process; two cores and the
	@# database servers' waits keep them busy); the server runs' output is
	@# printed when they end, each with its own pytest summary.
	@mkdir -p test-results
	@status=0; \
	$(MAKE) --no-print-directory test-postgresql > test-results/postgresql.log 2>&1 & postgresql=$$!; \
	$(MAKE) --no-print-directory test-mariadb > test-results/mariadb.log 2>&1 & mariadb=$$!; \
	$(MAKE) --no-print-directory test-sqlite || status=1; \
	wait $$postgresql || status=1; cat test-results/postgresql.log; \
	wait $$mariadb || status=1; cat test-results/mariadb.log; \
	if [ $$status -ne 0 ]; then echo "== some tests failed (see above)"; fi; \
	exit $$status

test-sqlite: $(VENV)/.test-installed ## Run the tests on SQLite only (the quick local run)
	@echo "== tests on SQLite"
	MIRETTE_TEST_DATABASE=sqlite $(PYTEST) $(PYTEST_ARGS)

test-postgresql: $(VENV)/.test-installed ## Run the tests on PostgreSQL only
	@echo "== tests on PostgreSQL"
	MIRETTE_TEST_DATABASE=postgresql $(PYTEST) $(SERVER_ONLY) --output=test-results/playwright-postgresql $(PYTEST_ARGS)

test-mariadb: $(VENV)/.test-installed ## Run the tests on MariaDB only
	@echo "== tests on MariaDB"
	MIRETTE_TEST_DATABASE=mariadb $(PYTEST) $(SERVER_ONLY) --output=test-results/playwright-mariadb $(PYTEST_ARGS)

# --- Languages ---------------------------------------------------------------
# pybabel's extract, update and compile, for the plugin's catalogue and the
# demo shop's (see docs/languages.md). Rewrites a file only when its strings
# changed; lists what is left to translate.

.PHONY: translations

translations: $(VENV)/.installed ## Extract the strings into the .pot files, update the .po files, compile the .mo files
	$(VENV_BIN)/python scripts/translations.py
