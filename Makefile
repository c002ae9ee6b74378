# Baton: `make run` sets up and starts Baton on the embedded default; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# With no baton.yaml of your own, `baton` itself finds baton.example.yaml (the demo's people and
# teams), so `make run` and `baton chat` reach the same organisation and database.

.PHONY: run test lint typecheck layers unit venv clean

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Baton needs Python 3.11 or newer" or 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/baton run

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

# The tests run beside real PostgreSQL and Redis servers on 127.0.0.1 (.ci/with-services starts
# them, installing the Debian packages when missing; a group it cannot serve is named SKIPPED).
unit: $(STAMP)
	.ci/with-services $(BIN)/pytest -rs

test: lint typecheck layers unit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
