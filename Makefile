# Two commands do everything on a fresh machine:
#   make run    set up, migrate, load demo data, serve http://127.0.0.1:8000
#   make test   set up (Chromium included) and run the whole suite
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1:8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/sae_console

.PHONY: setup run test test-sqlite test-postgres fuzz lint format check-deploy worker bench bench-quick bench-setup cloud-fake clean cluster-test

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(PY) || "$$(scripts/find-python.sh)" -m venv $(VENV)
	$(PY) -m pip install -qq --disable-pip-version-check -r requirements.lock
	@touch $@

setup: $(VENV)/.installed

# The demo server runs in debug mode (no secret key or TLS needed on a laptop).
run: export DJANGO_DEBUG = 1
# The console's address, for the intake snippet and the sample curl seed_demo prints.
run: export SAE_PUBLIC_URL ?= http://$(HOST)
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

# The fuzz suite (tests/fuzz, rules §13) at length: ten times the examples of the bounded run that
# `make test` includes, random rather than fixed, failures kept in .hypothesis/ and replayed
# first next time. On PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/x make fuzz
fuzz: setup
	SAE_FUZZ_PROFILE=long $(PY) -m pytest tests/fuzz $(PYTEST_ARGS)

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

# The served benchmark (bench/run.py): gunicorn + wrk on PostgreSQL, 1 and 10,000 accounts,
# writes, intake and one notify worker; results in docs/benchmarks/latest.{json,md,png}
# (about 15 minutes). bench-quick is the few-minute smoke run (results in .bench-output/).
# Each builds its own database (sae_bench, sae_bench_quick) afresh, never a test database.
BENCH_PG_URL       ?= postgres://postgres@127.0.0.1:5432/sae_bench
BENCH_QUICK_PG_URL ?= postgres://postgres@127.0.0.1:5432/sae_bench_quick

$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.installed
	$(PY) -m pip install -qq --disable-pip-version-check -r requirements-bench.txt
	@touch $@

bench-setup: setup $(VENV)/.bench-installed
	@scripts/ensure-bench-tools.sh

bench: bench-setup
	$(PY) -m bench --database-url $(BENCH_PG_URL) --output docs/benchmarks $(BENCH_ARGS)

bench-quick: bench-setup
	$(PY) -m bench --quick --database-url $(BENCH_QUICK_PG_URL) --output .bench-output $(BENCH_ARGS)

# Sends notifications: the task worker and the sweeper (run any number of them).
worker: setup
	$(PY) manage.py notify_worker

# A loopback fake of Alibaba Cloud's RAM and ARMS OpenAPI (aliyun/fake) with demo RAM users
# and ARMS contacts, to try the cloud connection without an account; it prints the AccessKey and
# the commands to connect. CLOUD_FAKE_ARGS e.g. "--seed users:1000 --latency 0.02". Ctrl-C stops.
CLOUD_FAKE_PORT ?= 8900
cloud-fake: setup
	$(PY) -m aliyun.fake --port $(CLOUD_FAKE_PORT) $(CLOUD_FAKE_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles .test-output .bench-output

# The scale-out proof (cluster/run.py, issue 19): two gunicorn nodes behind HAProxy, two
# notify_workers and one PostgreSQL in network namespaces (root needed), a bounded load while a
# web node and a worker are SIGKILLed and restarted. Writes docs/cluster/latest.{json,md}; fails
# unless only requests in flight on the killed node failed, nothing is lost, duplicates stay
# within the killed worker's sends in flight and no robot gets more than 20 a minute.
# CI runs CLUSTER_SIZE=small. Its own database (sae_cluster), built fresh.
CLUSTER_SIZE     ?= full
CLUSTER_DATABASE ?= sae_cluster
CLUSTER_OUTPUT   ?= docs/cluster

cluster-test: setup
	@scripts/ensure-cluster-tools.sh
	@trap '$(PY) -m cluster.net teardown' EXIT; \
	  $(PY) -m cluster --size $(CLUSTER_SIZE) --database $(CLUSTER_DATABASE) --output $(CLUSTER_OUTPUT)
