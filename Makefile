# Minori: `make demo` serves a demo, `make test` runs lint and the whole suite.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
BENCH_ARGS ?=
DEMO_USER := admin
DEMO_PASSWORD := minori-demo

.PHONY: .venv lint test demo bench catalogs clean
.DEFAULT_GOAL := test

.venv: $(STAMP)

# Re-install whenever a pyproject.toml changes.
$(STAMP): pyproject.toml examples/minori-hello/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" -e examples/minori-hello
	$(BIN)/pybabel -q compile -d core/locale -D minori
	$(BIN)/pybabel -q compile -d $(HELLO_LOCALE) -D hello
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
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: .venv
	$(BIN)/minori db migrate
	@out=$$(echo '$(DEMO_PASSWORD)' | $(BIN)/minori users create $(DEMO_USER) --role admin \
		--display-name 'Demo admin' 2>&1) && echo "$$out" || case "$$out" in \
		*taken*) echo "user $(DEMO_USER) exists already";; \
		*) echo "$$out" >&2; exit 1;; esac
	@echo
	@echo "Minori demo on http://127.0.0.1:8000  (user $(DEMO_USER), password $(DEMO_PASSWORD))"
	@echo "  log in:  curl -s -X POST http://127.0.0.1:8000/api/v1/auth/token \\"
	@echo "             -H 'Content-Type: application/json' \\"
	@echo "             -d '{\"username\": \"$(DEMO_USER)\", \"password\": \"$(DEMO_PASSWORD)\"}'"
	@echo "  then:    curl -s http://127.0.0.1:8000/api/v1/me -H 'Authorization: Bearer <access_token>'"
	@echo "  OpenAPI: http://127.0.0.1:8000/schema  (document: /schema/openapi.json)"
	@echo
	exec $(BIN)/minori serve --host 127.0.0.1 --port 8000

bench: .venv
	$(BIN)/python bench/api_baseline.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
