# The two commands of the README: `make run` and `make test`. Everything else is a helper.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install lint format migrate seed messages bench worker beat clean

$(STAMP): requirements.txt
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Embedded default: SQLite file, Celery tasks in-process. DEBUG=1 gives local-only dev keys.
run: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 $(PY) manage.py demo_monitor
	DEBUG=1 $(PY) manage.py demo_analysis
	DEBUG=1 $(PY) manage.py demo_logins --address $(HOST):$(PORT)
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: install
	DJANGO_SETTINGS_MODULE=tracker.test_settings $(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: install
	DEBUG=1 $(PY) manage.py makemessages -l nl --ignore=.venv --ignore=tests --ignore=benchmarks
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

worker: install
	$(VENV)/bin/celery -A tracker worker -Q celery,imports --loglevel=INFO --concurrency=2

beat: install
	$(VENV)/bin/celery -A tracker beat --loglevel=INFO

bench: install
	for f in benchmarks/[!_]*.py; do echo "== $$f"; $(PY) $$f --quick || exit 1; done  # _*.py are helpers

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var
