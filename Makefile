# barometre: `make demo` serves the demo on the embedded database; `make test` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TRANSLATIONS := survey/translations

.PHONY: demo test lint audit bench drill translations install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

translations: | $(BIN)/python
	$(BIN)/pybabel compile --use-fuzzy --statistics -d $(TRANSLATIONS)

demo: install
	$(BIN)/barometre demo

lint: install-dev
	$(BIN)/ruff check .

audit: install-dev
	$(BIN)/python tools/dependency_audit.py

# Headless Chromium once hung a CI run with no test timeout firing (the journey test, waiting
# on the browser). The browser tests run apart, bounded by `timeout`, with one second try: a
# hang cannot stall CI, and a real failure still fails twice.
BROWSER_TESTS := timeout -k 10 600 $(BIN)/python -m pytest -m browser
SUITE := $(BIN)/python -m pytest -m "not browser" && \
	{ $(BROWSER_TESTS) || { echo "== browser tests: second try"; $(BROWSER_TESTS); }; }

test: lint audit
	$(SUITE)
	@if [ -n "$$BAROMETRE_TEST_POSTGRES_URL" ]; then \
		echo "== the whole suite again on PostgreSQL"; \
		export BAROMETRE_TEST_DATABASE_URL="$$BAROMETRE_TEST_POSTGRES_URL"; $(SUITE); \
	else \
		echo "== BAROMETRE_TEST_POSTGRES_URL is not set: PostgreSQL run skipped"; \
	fi

bench: install-dev
	$(BIN)/python bench/run_all.py $(if $(QUICK),--quick,)

# The whole campaign on PostgreSQL under load and faults, checked end to end (bench/drill.py).
drill: install-dev
	$(BIN)/python bench/drill.py $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
