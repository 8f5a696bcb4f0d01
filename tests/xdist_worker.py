"""Each pytest-xdist worker ("gw0", "gw1", …) gets a Redis database and Celery queues of its
own; pytest-django already gives it a test database of its own (test_<name>_gw0, …).

Loaded with `-p` (pyproject.toml's addopts), so it runs before pytest-django reads the
settings (in its pytest_load_initial_conftests, before tests/conftest.py is imported) and
before anything starts a process: the settings, the Celery app and every worker, beat or
server that the tests start read these variables. A run without xdist (or `-n 0`) is left
as it is.

Redis: worker N uses the base database minus N (base 15, as `make test` sets it: 15, 14, …;
base 12: 12, 11, …). A Redis database holds the broker's queues, the cache (which the
suite empties with FLUSHDB), the throttling counters and locks, and Celery's broadcasts (ping,
add_consumer: kombu prefixes its fanout channels with the database number); so two workers
never see each other's. Database 0, Redis' default and `make run`'s, is never given to a
worker after the first.
"""

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import environ
import pytest

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# armsmonitor/settings.py's default, for a REDIS_URL set nowhere.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url_for_worker(url: str, index: int) -> str:
    """`url` with its database number lowered by `index`."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    path_db = parts.path.strip("/")
    base = int(query.get("db", path_db if path_db.isdigit() else 0))
    database = base - index
    if index and database < 1:
        raise pytest.UsageError(
            f"pytest-xdist worker {index} would use Redis database {database} (base {base} "
            f"minus the worker's number): give the suite a higher base database "
            f"(REDIS_URL or TEST_REDIS_URL, e.g. …/15) or fewer workers."
        )
    if "db" in query:
        query["db"] = str(database)
        # (Not urlunsplit: it would turn unix:///path into unix:/path.)
        return f"{url.partition('?')[0]}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{database}"))


def isolate_worker(worker: str) -> None:
    index = int(worker.removeprefix("gw"))
    environment = os.environ
    # Variables from the .env file as the settings read them (only those not set already).
    environ.Env.read_env(environment.get("ARMSMONITOR_ENV_FILE", os.path.join(PROJECT_DIR, ".env")))
    environment.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        if name in environment:
            environment[name] = redis_url_for_worker(environment[name], index)
    # The queues too: the settings name the control and reports queues after CELERY_QUEUE
    # unless they are set themselves.
    environment["CELERY_QUEUE"] = f"{environment.get('CELERY_QUEUE', 'celery')}-{worker}"
    for name in ("CONTROL_QUEUE", "REPORTS_QUEUE"):
        if name in environment:
            environment[name] = f"{environment[name]}-{worker}"


if os.environ.get("PYTEST_XDIST_WORKER"):
    isolate_worker(os.environ["PYTEST_XDIST_WORKER"])
