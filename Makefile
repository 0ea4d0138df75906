# The two commands of the README: `make demo` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app reviewapp
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: demo test lint install bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

## Run ReviewApp on the embedded SQLite database with the demo organisation.
demo: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "ReviewApp is running on http://$(HOST):$(PORT) (Ctrl+C to stop)"
	$(FLASK) run --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check reviewapp tests bench wsgi.py

## Lint, then the whole suite on SQLite with rate limits in memory; again on PostgreSQL (and
## limits in REVIEWAPP_RATELIMIT_STORAGE_URI, e.g. Redis) when REVIEWAPP_TEST_DATABASE_URL is set.
test: lint
	env -u REVIEWAPP_TEST_DATABASE_URL -u REVIEWAPP_RATELIMIT_STORAGE_URI $(BIN)/pytest -q
	@if [ -n "$$REVIEWAPP_TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$REVIEWAPP_TEST_DATABASE_URL)"; \
		$(BIN)/pytest -q; \
	fi

bench: install
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/validation_bench.py
	$(BIN)/python bench/pdf_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
