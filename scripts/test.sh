#!/usr/bin/env bash
# `make test`: the same set-up as `make run`, then lint and the whole test suite.
source "$(dirname "$0")/lib.sh"
trap stop_started_services EXIT

# The suite's own process creates the test database and runs the migrations (it needs a
# role that may create databases and PostGIS); the Celery workers and servers it starts
# connect as the application's role, with the rights the migrations grant it.
export DATABASE_APP_ROLE="${DATABASE_APP_ROLE:-armsmonitor_app}"
set_up_platform
# docker-compose validates the deployment file in the tests.
ensure_packages docker-compose
# Debian's Chromium for the browser tests (Playwright never downloads a browser here).
ensure_command chromium chromium
# GDAL's ogr2ogr reads the OGC API – Features endpoint in the tests, as an agency would.
ensure_command ogr2ogr gdal-bin
cd "$PROJECT_DIR"
# Tests use their own Redis database, so a running `make run` keeps its queue.
export REDIS_URL="${TEST_REDIS_URL:-${REDIS_URL%/*}/15}"
# ... and a queue of their own, so two test runs at once never take each other's tasks.
export CELERY_QUEUE="armsmonitor-test-$$"

say "Lint"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$PYTHON" manage.py makemigrations --check --dry-run -v0

say "Docs (mkdocs build --strict)"
# Offline (no web fonts, no CDN: mkdocs.yml) and into a temporary folder, never the project.
# (Not --quiet: it hides the warnings that --strict turns into a failure.)
docs_site="$(mktemp -d)"
SOURCE_DATE_EPOCH=0 NO_MKDOCS_2_WARNING=1 \
  "$VENV/bin/mkdocs" build --strict --site-dir "$docs_site"
rm -rf "$docs_site"

say "Layers (import-linter: the contract in pyproject.toml)"
"$VENV/bin/lint-imports" --no-cache

say "Types (mypy; errors not in mypy-baseline.txt fail, and fixed ones must leave it)"
# mypy exits 1 when it finds errors (the baseline judges them), 2 when it cannot run.
status=0
"$VENV/bin/mypy" > "$PROJECT_DIR/.mypy-output.txt" || status=$?
if [ "$status" -gt 1 ]; then
  cat "$PROJECT_DIR/.mypy-output.txt"
  exit "$status"
fi
"$VENV/bin/mypy-baseline" filter --baseline-path mypy-baseline.txt --sort-baseline --hide-stats \
  < "$PROJECT_DIR/.mypy-output.txt"

say "Tests"
# In parallel (pytest-xdist): TEST_WORKERS processes, by default one per core (at most 4),
# each with its own test database, Redis database (the one above minus the worker's
# number: 15, 14, …) and Celery queue (tests/xdist_worker.py). TEST_WORKERS=0: one process.
# worksteal: a few tests take minutes (real workers killed and redelivered); a worker left
# with nothing takes half of what the other has not started.
cores="$(nproc)"
workers="${TEST_WORKERS:-$((cores < 4 ? cores : 4))}"
"$VENV/bin/pytest" -n "$workers" --dist worksteal "$@"
