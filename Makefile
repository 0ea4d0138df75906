# The two commands of the README: `make demo` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app reviewapp
HOST   ?= 127.0.0.1
PORT   ?= 5000
# pytest-xdist workers per database's run (`make test TEST_WORKERS=0` runs in one process).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadscope

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

## Lint, then the whole suite on SQLite with rate limits in memory; when
## REVIEWAPP_TEST_DATABASE_URL is set, also on PostgreSQL (limits in REVIEWAPP_RATELIMIT_STORAGE_URI,
## e.g. Redis), the two runs side by side, each spread over TEST_WORKERS processes (pytest-xdist),
## each log printed whole when both are done.
test: lint
	@if [ -z "$$REVIEWAPP_TEST_DATABASE_URL" ]; then \
		$(PYTEST); \
	else \
		logs=$$(mktemp -d); \
		echo "== the suite on SQLite and on PostgreSQL ($$REVIEWAPP_TEST_DATABASE_URL), side by side"; \
		env -u REVIEWAPP_TEST_DATABASE_URL -u REVIEWAPP_RATELIMIT_STORAGE_URI \
			$(PYTEST) > $$logs/sqlite.log 2>&1 & sqlite=$$!; \
		REVIEWAPP_E2E_LAYOUT=0 $(PYTEST) > $$logs/postgresql.log 2>&1; pg=$$?; \
		wait $$sqlite; lite=$$?; \
		echo "== SQLite (exit $$lite)"; cat $$logs/sqlite.log; \
		echo "== PostgreSQL (exit $$pg)"; cat $$logs/postgresql.log; \
		rm -rf $$logs; \
		[ $$lite -eq 0 ] && [ $$pg -eq 0 ]; \
	fi

bench: install
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/validation_bench.py
	$(BIN)/python bench/pdf_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
