# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEV_ENV := DJANGO_DEBUG=1

.PHONY: install run test lint fmt bench soak migrate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput

# Server, background worker and the periodic reminders side by side; Ctrl-C stops them all.
run: migrate
	$(DEV_ENV) $(PY) manage.py seed_demo
	@echo "Portal: http://127.0.0.1:8000/  (Ctrl-C stops the server and the worker)"
	@trap 'kill 0' INT TERM EXIT; \
	$(DEV_ENV) $(PY) manage.py db_worker & \
	$(DEV_ENV) $(PY) manage.py run_periodic --interval 300 & \
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

# Lint, migrations check, then the suite on SQLite (with the browser tests) and PostgreSQL 15.
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(PY) tests/suite.py

lint: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) tests/bench/run.py

soak: install
	$(PY) tests/soak.py

clean:
	rm -rf $(VENV) portal.sqlite3* media staticfiles

# Mutation testing (slow, not in CI; see docs/testing.md): mutmut 3 over the services, the
# customer-link code and each audience's access helper, against the fast SQLite tests only.
# One worker, so it shares the machine; narrow it with e.g. MUTANTS='installations.customer_links.*'.
.PHONY: mutate
MUTANTS ?= 'installations.services.*' 'installations.customer_links.*' \
	'installations.views.partner.x__partner_for*' \
	'installations.views.partner.x__installation_for_partner*' \
	'installations.views.notify.x__installation_for_*' \
	'installations.views.handyman.x__handyman__mutmut*' \
	'installations.views.handyman.x__job_for_handyman*' \
	'installations.views.handyman.x__jobs__mutmut*'
mutate: install
	$(DEV_ENV) $(VENV)/bin/mutmut run --max-children 1 $(MUTANTS)
	$(VENV)/bin/mutmut results
