#!/usr/bin/env bash
# `make run`: set up what is missing, then serve http://127.0.0.1:8000 with a Celery
# worker and Celery beat. Ctrl-C stops everything this script started.
source "$(dirname "$0")/lib.sh"

PROCESSES=()
shut_down() {
  trap - INT TERM EXIT
  say "Stopping"
  local pid
  for pid in "${PROCESSES[@]+"${PROCESSES[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_started_services
}
trap shut_down INT TERM EXIT

# The migrations run as the owner of the schema, the server and the workers as a role that
# owns nothing (unless DATABASE_URL is given: then as that role, or DATABASE_OWNER_URL's).
SPLIT_DATABASE_ROLES=1
set_up_platform
cd "$PROJECT_DIR"
"$PYTHON" manage.py migrate --no-input -v0
"$PYTHON" manage.py load_boundaries --if-missing
"$PYTHON" manage.py load_regions
"$PYTHON" manage.py load_gazetteer --if-missing
"$PYTHON" manage.py seed_demo --if-empty --incidents "${DEMO_INCIDENTS:-2000}" \
  --login-file "$DATA_DIR/demo-login.txt"

say "Starting the web server, a Celery worker and Celery beat"
"$VENV/bin/gunicorn" armsmonitor.wsgi --bind "${BIND:-127.0.0.1:8000}" --workers 2 \
  --access-logfile - &
PROCESSES+=($!)
# A worker that dies (killed, out of memory) is started again rather than stopping the
# stack: its jobs come back through the job watchdog (docs/operators/scaling.md).
supervise() {
  local child=""
  trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
  while true; do
    "$@" &
    child=$!
    local status=0
    wait "$child" || status=$?
    say "The Celery worker stopped (exit $status); starting it again in 2 s"
    sleep 2
  done
}
supervise "$VENV/bin/celery" -A armsmonitor worker --loglevel INFO --concurrency 2 &
PROCESSES+=($!)
# The job watchdog's own worker (settings CONTROL_QUEUE): on time even when both slots of
# the other are busy with long jobs.
supervise "$VENV/bin/celery" -A armsmonitor worker --loglevel INFO --pool solo \
  --queues "${CONTROL_QUEUE:-${CELERY_QUEUE:-celery}.control}" --hostname "control@%h" &
PROCESSES+=($!)
"$VENV/bin/celery" -A armsmonitor beat --loglevel INFO \
  --schedule "$DATA_DIR/celerybeat-schedule" &
PROCESSES+=($!)

say "ArmsMonitor serves http://${BIND:-127.0.0.1:8000}/ (health: /healthz). Ctrl-C stops it."
say "Sign in as demo-admin, demo-reporter, demo-verifier or demo-analyst; password: $(cat "$DATA_DIR/demo-login.txt")"
# Stop all when the server or beat dies (the worker is restarted by its supervisor).
wait -n
