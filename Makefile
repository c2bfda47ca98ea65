# The two commands of the README: `make run` and `make test`. Each creates .venv and installs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run chat test browser screenshots lint format check bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/voisins run

chat: $(STAMP)
	$(BIN)/voisins chat

# The console's browser tests drive Debian's Chromium (Playwright cannot download a browser here).
# As root on Debian, make installs it like it makes the venv; anyone else is told the one command to run.
CHROMIUM ?= /usr/bin/chromium

browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's chromium for the console's browser tests"; \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
		else \
			echo "The console's browser tests need Chromium. Run:  sudo apt-get install -y chromium" >&2; exit 1; \
		fi; \
	fi

# Tests run on every core: each test has its own database, ports and temporary folder.
test: $(STAMP) browser
	$(BIN)/python -m pytest -n auto

# The README's pictures of the console, taken by its browser tests.
screenshots: $(STAMP) browser
	CONSOLE_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/console/test_console_browser.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint test

# Benchmarks print figures and the machine; they are not tests (see bench/ and docs/benchmarks.md).
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
