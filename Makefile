# The two promises of the README: `make run` and `make test`, each from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench clean

run: $(VENV)/.installed
	$(BIN)/python -m webapp.launcher

test: $(VENV)/.installed-test
	scripts/install-test-packages
	$(BIN)/lint-imports --no-cache --no-logo
	scripts/run-tests $(PYTEST_ARGS)

# The pip the venv comes with installs everything here (Python 3.11's is 22.3+, which installs editable from
# pyproject.toml); upgrading it first cost a fresh clone ~25 s on a busy two-core machine.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable ".[test]"
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) instance .pytest_cache
