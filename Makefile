# RelayDesk: `make run` installs and starts the embedded server with demo data; `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
export PYTHAINLP_DATA_DIR ?= $(CURDIR)/var/pythainlp

.PHONY: run test install install-dev lint typecheck pytest arch fast clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/relaydesk init --demo
	$(BIN)/relaydesk serve

lint: install-dev
	$(BIN)/ruff check --no-cache src tests bench
	$(BIN)/ruff format --no-cache --check src tests bench
	$(BIN)/lint-imports --no-cache

typecheck: install-dev
	$(BIN)/mypy

pytest: install-dev
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test: lint typecheck pytest

# The design's guardrails alone: import contracts (.importlinter) and tests/test_architecture.py.
arch: install-dev
	PYTHONPATH=src $(BIN)/lint-imports --no-cache
	$(BIN)/pytest -q tests/test_architecture.py

# Embedded mode only: SQLite, no browser, no PostgreSQL, no NATS (tests/scale starts NATS workers).
fast: install-dev
	$(BIN)/pytest -n 2 --dist loadgroup -m "not postgres and not e2e and not data" \
		--ignore=tests/scale --ignore=tests/e2e $(PYTEST_ARGS)

# After changing a page's words: refresh the catalogue template and merge it into each language.
LOCALES := fa ar he th
LOCALE_DIR := src/relaydesk/web/locale
messages: install-dev
	$(BIN)/pybabel -q extract -F babel.cfg --no-location --omit-header --sort-output -o $(LOCALE_DIR)/messages.pot .
	for l in $(LOCALES); do $(BIN)/pybabel -q update --no-wrap --no-fuzzy-matching -i $(LOCALE_DIR)/messages.pot -o $(LOCALE_DIR)/$$l.po -l $$l; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
