# barometre: `make demo` serves the demo on the embedded database; `make test` runs everything;
# `make test-quick` is the inner loop (no browser, no PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TRANSLATIONS := survey/translations

.PHONY: demo test test-quick lint audit bench drill translations install install-dev constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Every install takes the tested versions of constraints.txt, so that a clone installs next
# year what was tested today; `make constraints` renews them on purpose.
CONSTRAINTS := constraints.txt

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

translations: | $(BIN)/python
	$(BIN)/pybabel compile --use-fuzzy --statistics -d $(TRANSLATIONS)

demo: install
	$(BIN)/barometre demo $(if $(PORT),--port $(PORT),)

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

# The inner loop: ruff and the suite on SQLite, without the browser tests and without
# PostgreSQL (a few minutes instead of `make test`'s quarter of an hour on two cores).
test-quick: install-dev
	$(BIN)/ruff check .
	env -u BAROMETRE_TEST_DATABASE_URL $(BIN)/python -m pytest -m "not browser" -q -x

# Renew constraints.txt: the newest versions that pyproject.toml allows, installed in a fresh
# environment and written down. Run the whole `make test` (and `make audit`) before committing it.
constraints:
	rm -rf $(VENV)-constraints
	$(PYTHON) -m venv $(VENV)-constraints
	$(VENV)-constraints/bin/python -m pip install --quiet --upgrade pip
	$(VENV)-constraints/bin/pip install --quiet -e '.[dev]'
	{ sed -n '/^#/p' $(CONSTRAINTS); \
	  $(VENV)-constraints/bin/pip freeze --exclude-editable | sort -f; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf $(VENV)-constraints
	@echo "constraints.txt renewed: run make test and make audit before committing it"

bench: install-dev
	$(BIN)/python bench/run_all.py $(if $(QUICK),--quick,)

# The whole campaign on PostgreSQL under load and faults, checked end to end (bench/drill.py).
drill: install-dev
	$(BIN)/python bench/drill.py $(if $(QUICK),--quick,) $(if $(CI_DRILL),--ci,)

clean:
	rm -rf $(VENV) $(VENV)-constraints build *.egg-info .pytest_cache .ruff_cache
