# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run test browser worker migrate clean-venv

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m core.cli run

test: $(STAMP) browser
	$(PY) -m pytest $(PYTEST_ARGS)

# End-to-end tests drive Debian's Chromium (never a browser downloaded by a test tool).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the end-to-end tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
	  else echo "chromium is not installed: end-to-end tests will be skipped (sudo apt-get install chromium)"; fi; \
	fi

worker: $(STAMP)
	$(PY) -m core.cli worker

migrate: $(STAMP)
	$(PY) -m core.cli migrate

clean-venv:
	rm -rf $(VENV)
