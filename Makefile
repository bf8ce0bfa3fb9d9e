# The two commands of the README: `make run` and `make test`.
# Both install what is missing first (Debian packages, then the Python venv).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):/usr/sbin:$(PATH)

.PHONY: run test lint unit bench system venv clean

run: venv
	$(BIN)/ecomarket up

test: venv lint unit

system:
	@scripts/install-system.sh

# The venv is rebuilt whenever pyproject.toml changes.
venv: system $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -q

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .ecomarket
