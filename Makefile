# Two commands: `make run` (set up and run the app with demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PORT ?= 8000
B ?=
SIZE ?=
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: run test lint bench setup migrate clean messages

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# Browser libraries (camera scanning) from the npm registry, pinned by package-lock.json; only
# the files named in settings.NPM_STATIC_FILES are served. Never a CDN, never committed.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm (Node.js) is required to install the browser libraries: install nodejs and npm (e.g. apt-get install -y nodejs npm), then run make again." >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_STAMP)

setup: $(STAMP) $(NODE_STAMP)

migrate: setup
	$(BIN)/python manage.py migrate --noinput

run: migrate
	mkdir -p var
	$(BIN)/python manage.py wms_demo
	@echo ""
	@echo "  WMS is starting on http://127.0.0.1:$(PORT)/"
	@echo "  Demo logins (password wms-demo): admin, manager, qc, staff, store, channel"
	@echo "  Ctrl-C stops the web server, the worker and beat."
	@echo ""
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho -f Procfile start -p $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(B) $(if $(SIZE),--size $(SIZE),)

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'var/*' --ignore 'node_modules/*'
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore '.venv/*'

clean:
	rm -rf $(VENV) staticfiles var db.sqlite3 test-artifacts
