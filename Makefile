# Two commands matter: `make demo` starts the platform, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install demo test browser pdf-libs lint bench bench-quick clean

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

# WeasyPrint (the audit trail's PDF export) renders with Pango and subsets fonts with HarfBuzz;
# the browser journeys render a PDF to PNG with poppler's pdftoppm to look at it.
PDF_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils
pdf-libs:
	@dpkg -s $(PDF_LIBS) >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $(PDF_LIBS); }

# The second pass leaves out what never touches the database it names: the engines, and the
# documentation, whose examples run the commands on SQLite with DATABASE_URL unset; and the
# browser journeys, which drive pages whose queries the page and API tests already run on
# both databases.
test: install browser pdf-libs
	env -u DATABASE_URL $(BIN)/pytest -n auto --dist loadgroup $(PYTEST_ARGS)
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== again on $$(echo $$DATABASE_URL | sed 's#//[^@]*@#//#')"; \
		$(BIN)/pytest -n auto --dist loadgroup --ignore=tests/engines --ignore=tests/docs --ignore=tests/browser $(PYTEST_ARGS); \
	fi

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/mypy bench
	$(BIN)/lint-imports

ENGINE_BENCHES := bench/planning.py bench/monitoring.py bench/monitoring_quality.py bench/bioprocess.py

bench: install
	@for script in $(ENGINE_BENCHES) bench/load.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

bench-quick: install
	@for script in bench/planning.py bench/monitoring.py bench/bioprocess.py; do echo "== $$script --quick"; $(BIN)/python $$script --quick || exit 1; done

clean:
	rm -rf $(VENV) var test-output .pytest_cache .mypy_cache .ruff_cache
