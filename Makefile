# Two commands do everything on a fresh machine:
#   make run    set up, migrate, load demo data, serve http://127.0.0.1:8000
#   make test   set up (Chromium included) and run the whole suite
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1:8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/sae_console

.PHONY: setup run test test-sqlite test-postgres lint format check-deploy worker bench clean

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(PY) || "$$(scripts/find-python.sh)" -m venv $(VENV)
	$(PY) -m pip install -qq --disable-pip-version-check -r requirements.lock
	@touch $@

setup: $(VENV)/.installed

# The demo server runs in debug mode (no secret key or TLS needed on a laptop).
run: export DJANGO_DEBUG = 1
# A notification worker runs beside the server and stops with it.
run: setup
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	$(PY) manage.py notify_worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST)

test: setup
	@scripts/ensure-test-tools.sh
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: setup
	@scripts/ensure-test-tools.sh
	DATABASE_URL=$(PG_URL) $(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: setup
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
	  SAE_FIELD_ENCRYPTION_KEYS=$$(head -c 32 /dev/urandom | base64 | tr '+/' '-_') \
	  DJANGO_ALLOWED_HOSTS=console.example.com $(PY) manage.py check --deploy --fail-level WARNING

# Figures for the growing paths, in production settings (debug off, collected static files).
bench: setup
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=benchmark-only DJANGO_ALLOWED_HOSTS=localhost \
	  SAE_FIELD_ENCRYPTION_KEYS=qZ6xDbSiET_Ql3fv26hao3db_g_N0Vj6yE336BP_fxo= \
	  sh -c '$(PY) manage.py migrate --no-input -v0 && $(PY) manage.py collectstatic --no-input -v0 && $(PY) manage.py benchmark'

# Sends notifications: the task worker and the sweeper (run any number of them).
worker: setup
	$(PY) manage.py notify_worker

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles .test-output
