# make serve: set up and serve the demo corpus on http://127.0.0.1:8000
# make test:  set up and run every check and test
# make check: the inner loop (about a minute): lint, types and every test not marked slow
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INDEX_DIR ?= $(or $(EVENTSEARCH_INDEX_DIR),var/index)

.PHONY: install serve index test test-setup lint pytest check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

index: install
	@$(BIN)/indexer stats --index-dir $(INDEX_DIR) >/dev/null 2>&1 || \
		$(BIN)/indexer rebuild --index-dir $(INDEX_DIR) data/demo

serve: index
	EVENTSEARCH_INDEX_DIR=$(INDEX_DIR) $(BIN)/gunicorn -c config/gunicorn.conf.py 'api.app:create_app()'

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# What the tests need besides Python packages: Debian's Chromium (installed if missing).
test-setup:
	.ci/setup-tests

pytest: install test-setup
	$(BIN)/pytest

test: lint pytest

# Tests marked slow (real gunicorn, Chromium, the benchmark and relevance suites, kill
# loops, long runs) are left out; `make test` runs them, as CI does.
check: lint
	$(BIN)/pytest -m "not slow"

clean:
	rm -rf $(VENV) var
