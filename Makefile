# paperset: `make demo` runs the whole product offline on the bundled replica; `make test` runs the tests
# (`make test-fast`: all but the slow, browser and Redis ones, for the edit loop; docs/testing.md).
# Both set everything up first (idempotent and quiet when there is nothing to do).

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test test-fast lint bench clean

setup: $(STAMP)
	@scripts/ensure-system.sh $(VENV)/bin/python

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@echo "paperset setup: installing the project into $(VENV)"
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]' > $(VENV)/pip.log 2>&1 \
		|| { cat $(VENV)/pip.log; echo "paperset setup: pip install failed (log: $(VENV)/pip.log)"; exit 1; }
	@touch $(STAMP)

demo: setup
	@$(VENV)/bin/paperset demo

test: setup
	@$(VENV)/bin/python -m pytest

test-fast: setup
	@$(VENV)/bin/python -m pytest -q -m "not slow and not browser and not redis"

lint: setup
	@$(VENV)/bin/ruff check .

bench: setup
	@for script in bench/[!_]*.py; do echo "== $$script"; $(VENV)/bin/python $$script || exit 1; done

clean:
	rm -rf out .pytest_cache
