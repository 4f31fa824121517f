# Two commands: `make run` (set up and run the app with demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
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

setup: $(STAMP)

migrate: $(STAMP)
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

test: $(STAMP) lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(B) $(if $(SIZE),--size $(SIZE),)

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'var/*'
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore '.venv/*'

clean:
	rm -rf $(VENV) staticfiles var db.sqlite3 test-artifacts
