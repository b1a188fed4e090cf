# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEV_ENV := DJANGO_DEBUG=1

.PHONY: install run test clocks lint fmt bench soak migrate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput

# Server, background worker and the periodic reminders side by side; Ctrl-C stops them all.
# The demo's mail and texts go to files under var/ and the worker logs nothing per task (a failed
# message shows in the admin's outbox), so that the last lines on screen are where the portal is
# and how to log in.
RUN_ENV := $(DEV_ENV) \
	DJANGO_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend \
	DJANGO_EMAIL_FILE_PATH=var/mail SMS_BACKEND=installations.sms.FileBackend SMS_FILE_PATH=var/sms.log
run: migrate
	@mkdir -p var
	@$(RUN_ENV) $(PY) manage.py seed_demo > var/seed.txt
	@trap 'kill 0' INT TERM EXIT; \
	$(RUN_ENV) $(PY) manage.py db_worker --no-reload --verbosity 0 & \
	$(RUN_ENV) $(PY) manage.py run_periodic --interval 300 & \
	$(RUN_ENV) $(PY) manage.py runserver 127.0.0.1:8000 & \
	until $(PY) -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/accounts/login/', timeout=2)" 2>/dev/null; do sleep 0.5; done; \
	echo; echo "Mail and texts the portal sends: var/mail/ and var/sms.log"; \
	echo "Portal: http://127.0.0.1:8000/  (Ctrl-C stops the server and the worker)"; \
	cat var/seed.txt; \
	wait

# Lint, migrations check, then the suite's three legs: SQLite, PostgreSQL 15 and the browser tests
# (against gunicorn with DEBUG off); the last lines say, per leg, passed, FAILED or SKIPPED (why).
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(PY) tests/suite.py

# The SQLite leg at other moments than its night (tests/suite.py NIGHT_CLOCK): a summer night,
# when London's date is a day ahead of UTC's; a winter midnight; the night the clocks go forward;
# New Year's Eve; a weekday's noon. About 7 minutes each; not part of `make test`.
CLOCKS := 2027-06-15T23:30:00+00:00 2026-12-05T23:50:00+00:00 2027-03-28T00:30:00+00:00 \
	2026-12-31T23:30:00+00:00 2026-12-10T12:00:00+00:00
clocks: install
	@set -e; for moment in $(CLOCKS); do PORTAL_TEST_CLOCK=$$moment $(PY) tests/suite.py sqlite; done

lint: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) tests/bench/run.py

soak: install
	$(PY) tests/soak.py

clean:
	rm -rf $(VENV) portal.sqlite3* media staticfiles var mutants

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
