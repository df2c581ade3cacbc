# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test lint types pytest demo browser-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

test: lint types browser-deps pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy
	# The example shop is type-checked under its own settings.
	cd example_project && ../$(BIN)/mypy

# Two pytest-xdist workers: most tests wait on a database, a subprocess or the browser,
# and CI's budget is ten minutes. PYTEST_ARGS= runs the suite in one process.
PYTEST_ARGS ?= -n 2

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium; it is installed from Debian's
# packages when missing (Playwright's own browser download is never used).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || ( \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null )

demo: $(STAMP)
	$(BIN)/python example_project/run_demo.py

clean:
	rm -rf $(VENV) .nox .mypy_cache .ruff_cache .pytest_cache
