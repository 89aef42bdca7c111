# Works on a fresh machine with python3 and make: `make test` builds .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.satchel-installed
ARGS ?=

.PHONY: venv serve test test-deps lint bench clean

venv: $(STAMP)

# Reinstalled whenever pyproject.toml changes (new dependency), otherwise a no-op.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
		rm -rf $(VENV); bash scripts/install-test-deps.sh python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

serve: venv
	$(BIN)/satchel serve --host 127.0.0.1 --port 9000 --data-dir ./satchel-data

test-deps:
	bash scripts/install-test-deps.sh

test: venv test-deps
	$(BIN)/python -m pytest -n 2 --dist loadfile tests/
	$(MAKE) lint

lint: venv
	$(BIN)/ruff check satchel tests bench
	$(BIN)/mypy satchel tests bench

# Pass options with `make bench ARGS="..."` (see bench/README.md).
bench: venv
	$(BIN)/python bench/run.py $(ARGS)

# Leaves ./satchel-data alone: it holds user data.
clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
