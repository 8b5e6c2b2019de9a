# Two commands matter: `make demo` starts the platform, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install demo test test-sqlite test-postgres browser lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/opencdmo demo

browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

test: install browser
	env -u DATABASE_URL $(BIN)/pytest -n auto --dist loadgroup $(PYTEST_ARGS)
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== again on $$(echo $$DATABASE_URL | sed 's#//[^@]*@#//#')"; \
		$(BIN)/pytest -n auto --dist loadgroup --ignore=tests/engines $(PYTEST_ARGS); \
	fi

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var test-output .pytest_cache .mypy_cache .ruff_cache
