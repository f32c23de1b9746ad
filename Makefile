# Minori: `make demo` serves a demo, `make test` runs lint and the whole suite.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -n 2
BENCH_ARGS ?=

.PHONY: .venv lint test demo bench catalogs clean
.DEFAULT_GOAL := test

.venv: $(STAMP)

# Re-install whenever a pyproject.toml changes.
$(STAMP): pyproject.toml examples/minori-hello/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" -e examples/minori-hello
	$(BIN)/python -m core.i18n
	touch $@

# After changing user-facing texts: extract the message ids and merge them into every .po
# (then translate what is new: tests/mobile_api/test_catalogs.py fails until every id is).
HELLO_LOCALE := examples/minori-hello/minori_hello/locale
catalogs: .venv
	$(BIN)/pybabel -q extract --no-location --sort-output -o core/locale/minori.pot core mobile_api
	$(BIN)/pybabel -q update -i core/locale/minori.pot -d core/locale -D minori
	$(BIN)/pybabel -q extract --no-location --sort-output -o $(HELLO_LOCALE)/hello.pot $(HELLO_LOCALE)/..
	$(BIN)/pybabel -q update -i $(HELLO_LOCALE)/hello.pot -d $(HELLO_LOCALE) -D hello

lint: .venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: .venv lint
	$(BIN)/python -m core.i18n
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Migrates, seeds the demo city (every plugin's part), prints the logins and URLs, and serves
# with the device simulators running. `make demo DEMO_ARGS=--reset` starts over.
DEMO_ARGS ?=
demo: .venv
	$(BIN)/python -m core.i18n
	exec $(BIN)/minori demo --host 127.0.0.1 --port 8000 $(DEMO_ARGS)

bench: .venv
	$(BIN)/python bench/api_baseline.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
