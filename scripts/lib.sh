# Shared set-up steps of `make run` and `make test`. Sourced, not run.
#
# Each step checks before it acts, so a second run does almost nothing. Services that this
# script starts itself (a private PostgreSQL or Redis under .data/) are stopped by
# `stop_started_services`, which the callers run on exit.

set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="$PROJECT_DIR/.data"
VENV="$PROJECT_DIR/.venv"
PYTHON="$VENV/bin/python"
PRIVATE_PG_PORT="${PRIVATE_PG_PORT:-5433}"
PRIVATE_REDIS_PORT="${PRIVATE_REDIS_PORT:-6380}"
STARTED_SERVICES=()

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- system packages ------------------------------------------------------------------

APT_UPDATED=0
apt_install() {
  say "Installing system packages: $*"
  if [ "$APT_UPDATED" -eq 0 ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

package_missing() { ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

ensure_command() { # command package
  command -v "$1" >/dev/null 2>&1 || ensure_packages "$2"
}

ensure_packages() {
  local wanted=() package
  for package in "$@"; do
    if package_missing "$package"; then wanted+=("$package"); fi
  done
  if [ "${#wanted[@]}" -gt 0 ]; then apt_install "${wanted[@]}"; fi
}

# --- PostgreSQL + PostGIS -------------------------------------------------------------

pg_answers() { # host port
  pg_isready -q -h "$1" -p "$2" 2>/dev/null
}

postgres_major_of_running_server() { # url
  "$PYTHON" "$PROJECT_DIR/scripts/database.py" server-major
}

start_private_postgres() {
  local major bin cluster="$DATA_DIR/postgres"
  ensure_packages postgresql
  major="$(ls /usr/lib/postgresql | sort -n | tail -1)"
  bin="/usr/lib/postgresql/$major/bin"
  ensure_packages "postgresql-$major-postgis-3"
  mkdir -p "$cluster"
  if [ ! -f "$cluster/PG_VERSION" ]; then
    say "Creating a private PostgreSQL $major cluster in .data/postgres"
    # initdb refuses to run as root: the cluster belongs to the postgres user.
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$cluster"
      runuser -u postgres -- "$bin/initdb" -D "$cluster" -U postgres --auth=trust >/dev/null
    else
      "$bin/initdb" -D "$cluster" -U postgres --auth=trust >/dev/null
    fi
  fi
  say "Starting the private PostgreSQL on 127.0.0.1:$PRIVATE_PG_PORT"
  local start=("$bin/pg_ctl" -D "$cluster" -l "$cluster/server.log" -w start
               -o "-p $PRIVATE_PG_PORT -k $cluster -c listen_addresses=127.0.0.1")
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "${start[@]}" >/dev/null; else "${start[@]}" >/dev/null; fi
  STARTED_SERVICES+=("postgres:$bin:$cluster")
}

# The roles of a database that this script sets up itself (docs/operators/database-roles.md): the
# owner runs the migrations, the application connects as a role that owns nothing.
OWNER_ROLE="${OWNER_ROLE:-armsmonitor_owner}"
APP_ROLE="${APP_ROLE:-armsmonitor_app}"

use_local_server() { # port
  if [ "${SPLIT_DATABASE_ROLES:-0}" = 1 ]; then
    export DATABASE_ADMIN_URL="postgres://postgres@127.0.0.1:$1/armsmonitor"
    export DATABASE_OWNER_URL="postgres://$OWNER_ROLE@127.0.0.1:$1/armsmonitor"
    export DATABASE_URL="postgres://$APP_ROLE@127.0.0.1:$1/armsmonitor"
  else
    export DATABASE_URL="postgres://postgres@127.0.0.1:$1/armsmonitor"
  fi
}

ensure_postgres() {
  ensure_command pg_isready postgresql-client
  if [ -n "${DATABASE_URL:-}" ]; then
    say "Using PostgreSQL at DATABASE_URL"
  elif [ "${ARMSMONITOR_PRIVATE_SERVICES:-0}" != 1 ] && pg_answers 127.0.0.1 5432; then
    say "Using the PostgreSQL that runs on 127.0.0.1:5432"
    use_local_server 5432
  else
    pg_answers 127.0.0.1 "$PRIVATE_PG_PORT" || start_private_postgres
    use_local_server "$PRIVATE_PG_PORT"
  fi
}

ensure_postgis_package() {
  # PostGIS must match the server's major version; it can only be installed for a server on
  # this machine. A remote server is expected to have it already.
  if "$PYTHON" "$PROJECT_DIR/scripts/database.py" is-local; then
    ensure_packages "postgresql-$("$PYTHON" "$PROJECT_DIR/scripts/database.py" server-major)-postgis-3"
  fi
}

# --- Redis ----------------------------------------------------------------------------

redis_answers() { # port
  [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
}

ensure_redis() {
  ensure_command redis-cli redis-tools
  if [ -n "${REDIS_URL:-}" ]; then
    say "Using Redis at REDIS_URL"
  elif [ "${ARMSMONITOR_PRIVATE_SERVICES:-0}" != 1 ] && redis_answers 6379; then
    say "Using the Redis that runs on 127.0.0.1:6379"
    export REDIS_URL="redis://127.0.0.1:6379/0"
  else
    if ! redis_answers "$PRIVATE_REDIS_PORT"; then
      ensure_packages redis-server
      mkdir -p "$DATA_DIR/redis"
      say "Starting a private Redis on 127.0.0.1:$PRIVATE_REDIS_PORT"
      # noeviction: a broker must refuse writes rather than silently drop queued tasks;
      # append-only (as docker-compose.yml): queued and unacknowledged tasks survive a
      # restart of Redis.
      redis-server --port "$PRIVATE_REDIS_PORT" --bind 127.0.0.1 --dir "$DATA_DIR/redis" \
        --maxmemory-policy noeviction --appendonly yes --appendfsync everysec --daemonize yes \
        --pidfile "$DATA_DIR/redis/redis.pid" --logfile "$DATA_DIR/redis/redis.log"
      STARTED_SERVICES+=("redis:$PRIVATE_REDIS_PORT")
    fi
    export REDIS_URL="redis://127.0.0.1:$PRIVATE_REDIS_PORT/0"
  fi
}

stop_started_services() {
  local service
  for service in "${STARTED_SERVICES[@]+"${STARTED_SERVICES[@]}"}"; do
    case "$service" in
      postgres:*)
        IFS=: read -r _ bin cluster <<<"$service"
        say "Stopping the private PostgreSQL"
        if [ "$(id -u)" -eq 0 ]; then
          runuser -u postgres -- "$bin/pg_ctl" -D "$cluster" -m fast stop >/dev/null || true
        else
          "$bin/pg_ctl" -D "$cluster" -m fast stop >/dev/null || true
        fi ;;
      redis:*)
        say "Stopping the private Redis"
        # SHUTDOWN (not NOSAVE): the append-only file keeps the tasks not yet run.
        redis-cli -p "${service#redis:}" shutdown >/dev/null 2>&1 || true ;;
    esac
  done
}

# --- Python ---------------------------------------------------------------------------

ensure_python() {
  if [ ! -x "$PYTHON" ]; then
    python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null \
      || ensure_packages python3-venv
    say "Creating the virtualenv .venv"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.requirements.sha256" wanted
  wanted="$(sha256sum "$PROJECT_DIR/requirements.txt" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    say "Installing the pinned Python packages"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -r "$PROJECT_DIR/requirements.txt"
    echo "$wanted" >"$stamp"
  fi
}

ensure_node_packages() {
  # Data and front-end packages from the npm registry (Natural Earth via world-atlas, …).
  ensure_command npm npm
  local stamp="$PROJECT_DIR/node_modules/.lock.sha256" wanted
  wanted="$(sha256sum "$PROJECT_DIR/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    say "Installing the npm packages"
    (cd "$PROJECT_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$wanted" >"$stamp"
  fi
}

ensure_env_file() {
  if [ ! -f "$PROJECT_DIR/.env" ]; then
    say "Writing a local .env (DEBUG on, a random SECRET_KEY)"
    umask 077
    printf 'DEBUG=true\nSECRET_KEY=%s\n' "$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')" \
      >"$PROJECT_DIR/.env"
  fi
}

# --- everything `make run` and `make test` share ---------------------------------------

set_up_platform() {
  mkdir -p "$DATA_DIR"
  ensure_packages gdal-bin
  # WeasyPrint draws report PDFs with the system's Pango and fonts; pdftotext reads them back.
  ensure_packages libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils
  ensure_python
  ensure_node_packages
  ensure_env_file
  ensure_postgres
  ensure_postgis_package
  ensure_redis
  "$PYTHON" "$PROJECT_DIR/scripts/database.py" create
  "$PYTHON" "$PROJECT_DIR/manage.py" collectstatic --no-input -v0
  # The French catalogue is built from locale/fr/LC_MESSAGES/django.po.
  ensure_command msgfmt gettext
  (cd "$PROJECT_DIR" && "$PYTHON" manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules)
}
