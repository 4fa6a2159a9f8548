# The two commands: `make run` (the site with demo data) and `make test` (the whole suite).
# Both install what they need. Every other target is a helper for them or for developers.

SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen
HOST ?= 127.0.0.1
PORT ?= 8000

# The suite runs against real PostgreSQL and Redis; override these to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/coworking
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
# Debian's old headless shell, built from the same sources as its chromium: the browser tests
# are a third of a run's processor time, and on 2 cores (2026-12-05) the shell took less than
# half the processor time of the full browser for the same tests.
CHROMIUM ?= /usr/bin/chromium-headless-shell
# The shell cannot show notifications: the push test runs on Debian's full browser.
CHROMIUM_FULL ?= /usr/bin/chromium
# Parallel workers, one per core and two more (each has its own database and Redis;
# tests/worker_env.py). Many tests wait on real timers, servers and browsers, and the extra
# workers fill those waits: with 3 workers on 2 cores the processors were busy only 1.2 of 2
# on average. On 2 cores (2026-12-06, fresh clone, the same commit) 3 workers took 6 min 26 s
# and 6 min 38 s, 4 took 5 min 50 s, 5 took 5 min 50 s. (2026-12-04: 2 took 8 min 7 s, 3
# took 6 min 51 s; 4 then starved two tests of database connections, before the pool grew.)
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 2 )))
# worksteal: the slow browser and socket tests cluster in a few files; idle workers take them over.
TEST_DIST ?= worksteal
EN_CATALOGUES := locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/djangojs.po
# Not scanned for strings; tests/* also covers the vendored axe-core in tests/browser/vendor.
MESSAGES_IGNORE := --ignore ".venv/*" --ignore "staticfiles/*" --ignore "tests/*" --ignore "bench/*"

.PHONY: run test lint-layers install uv system-deps migrate seed lint typecheck messages bench mutants clean screenshots

# Links in emails and the Sites framework's row (set by migrate) name where the site runs.
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: install ## Serve the site with demo data on http://127.0.0.1:8000 (HTTP and WebSockets)
	@# The stage's media server: Debian's janus, installed where this may (as root), else skipped.
	@command -v janus >/dev/null || [ "$$(id -u)" != 0 ] || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq janus >/dev/null; } || true
	$(RUN) python manage.py migrate --noinput
	$(RUN) python manage.py seed_demo
	@echo "Serving on $(SITE_URL)/ (Ctrl+C to stop)"
	bin/serve $(HOST):$(PORT)

test: install system-deps ## Run the whole suite against PostgreSQL and Redis
	@# Pub/sub ignores Redis database numbers: the prefix keeps runs on other databases apart.
	@# Each worker, server and subprocess imports the whole stack: write the bytecode even where
	@# the environment says not to (`install` compiles the libraries' bytecode, on every core).
	@# Threads racing for rows wait on each other's locks holding pooled connections: on a
	@# loaded 2-core machine the production pool timeout (10 s) failed such a test once.
	@# Channels' test communicator turns off `close_old_connections` around
	@# database_sync_to_async (channels/testing/application.py), so each database thread a
	@# socket test used keeps its pooled connection (5 after 500 tests in one worker, traced at
	@# getconn/putconn): at the former production size (8) a worker that drew many such tests ran dry.
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CHROMIUM=$(CHROMIUM) \
		CHROMIUM_FULL=$(CHROMIUM_FULL) CHANNEL_LAYER_PREFIX=test$(notdir $(TEST_REDIS_URL)) DB_POOL_TIMEOUT=30 \
		DB_POOL_MAX_SIZE=16 \
		PYTHONDONTWRITEBYTECODE= \
		$(RUN) python -m pytest -n $(TEST_WORKERS) --dist $(TEST_DIST) --durations=10 $(PYTEST_ARGS)

install: uv
	@# Compiled once, in parallel, here: three test workers starting together on a fresh clone
	@# each compiled the same libraries (about a minute of a 2-core machine's CPU).
	$(UV) sync --frozen --compile-bytecode

uv:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv

# Playwright drives Debian's Chromium (its own browser download does not work offline);
# gettext checks that the translation catalogues cover every string.
system-deps:
	@test -x $(CHROMIUM) && test -x $(CHROMIUM_FULL) && command -v xgettext >/dev/null \
		&& command -v janus >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq chromium-headless-shell chromium gettext janus >/dev/null; \
		else echo "The tests need: sudo apt-get install chromium-headless-shell chromium gettext janus" >&2; \
		exit 1; fi; }

lint: install ## ruff, mypy and the layers between apps (import-linter, docs/architecture.md)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy .
	$(RUN) lint-imports

lint-layers: install ## Only the import-linter contracts (run by CI too)
	$(RUN) lint-imports

messages: install ## Refresh the Spanish and English catalogues after changing strings
	$(RUN) python manage.py makemessages --locale es --locale en --no-obsolete $(MESSAGES_IGNORE)
	@# The scripts' strings (static/js/), which the JavaScript catalogue (/jsi18n/) serves.
	$(RUN) python manage.py makemessages --domain djangojs --locale es --locale en --no-obsolete \
		$(MESSAGES_IGNORE)
	@# English is the source language: its catalogues repeat every msgid, guesses dropped.
	for po in $(EN_CATALOGUES); do msgattrib --clear-fuzzy --empty $$po -o $$po && msgen $$po -o $$po; done
	$(RUN) python manage.py compilemessages --ignore ".venv/*"

bench: install ## Run the benchmarks in bench/ (results in docs/benchmarks.md; QUICK=1: small, in bench/results/)
	BENCH_QUICK=$(QUICK) $(RUN) python bench/run.py $(BENCH)

mutants: install ## Run the solver's tests against deliberately broken solvers (each must fail)
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		CHANNEL_LAYER_PREFIX=mutants$(notdir $(TEST_REDIS_URL)) \
		$(RUN) python tests/solver_mutants.py

clean:
	rm -rf .venv .pycache staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm .pytest_cache .mypy_cache .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +

screenshots: install system-deps ## Screenshots of the main pages (desktop and phone) in docs/screenshots/
	CHROMIUM=$(CHROMIUM) $(RUN) python docs/screenshots/make_screenshots.py
