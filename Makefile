# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run test worker migrate bench clean-venv

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m core.cli run

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

worker: $(STAMP)
	$(PY) -m core.cli worker

migrate: $(STAMP)
	$(PY) -m core.cli migrate

clean-venv:
	rm -rf $(VENV)
