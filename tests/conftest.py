"""Shared fixtures: a real Celery worker process, and a small set of records."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from armsmonitor.celery import app as celery_app
from tests.waiting import SAFETY_MS, SAFETY_SECONDS

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _database_url(database: dict) -> str:
    """The test database as the application connects to it: as DATABASE_APP_ROLE (which
    `make test` creates, and the migrations grant the application's rights), so that the
    workers run with no more rights than in production; else as the suite's own role."""
    user, password = settings.DATABASE_APP_ROLE, ""
    if not user:
        user, password = database["USER"], database["PASSWORD"]
    password = f":{password}" if password else ""
    return (
        f"postgres://{user}{password}@{database['HOST'] or 'localhost'}"
        f":{database['PORT'] or 5432}/{database['NAME']}"
    )


# The session's shared worker (celery_worker_process), while it runs, and the workers that
# tests start for themselves. A test that starts its own workers counts on them alone to
# take its tasks (which worker ran a run, a killed worker's task redelivered): while any of
# them is alive, the shared worker stops consuming the queue.
_SHARED_WORKER: dict = {}  # "process", "nodes" (its name as the broker knows it), "broker"
_OWN_WORKERS: list = []


def _own_workers_alive() -> list:
    _OWN_WORKERS[:] = [worker for worker in _OWN_WORKERS if worker.poll() is None]
    return _OWN_WORKERS


def _shared_worker_consumes(consumes: bool) -> None:
    if not _SHARED_WORKER:
        return
    if celery_app.conf.broker_url != _SHARED_WORKER["broker"]:
        # A test on a broker of its own (a private Redis): the shared worker, on the suite's
        # broker, takes none of its tasks, nor hears (or answers) a command sent there.
        return
    if _SHARED_WORKER.get("paused", False) == (not consumes):
        return
    command = celery_app.control.add_consumer if consumes else celery_app.control.cancel_consumer
    # Both queues: the test's own workers run the job watchdog too, with their own settings.
    # Each command waits for the worker's answer (a solo worker busy with a task answers
    # when it is done): only then does it take no more tasks, or take them again.
    nodes = _SHARED_WORKER["nodes"]
    for queue in (celery_app.conf.task_default_queue, settings.CONTROL_QUEUE):
        replies = command(
            queue, destination=nodes, reply=True, limit=len(nodes), timeout=SAFETY_SECONDS
        )
        if len(replies) < len(nodes):
            pytest.fail(f"The shared Celery worker did not answer {command.__name__}({queue}).")
    _SHARED_WORKER["paused"] = not consumes


@pytest.fixture(autouse=True)
def _shared_worker_consumes_again():
    """A test that killed its own workers without stopping them leaves none alive: the
    shared worker takes tasks again for the next tests."""
    yield
    if not _own_workers_alive():
        _shared_worker_consumes(True)


def start_celery_worker(
    name: str, *, pool: str = "solo", concurrency: int = 1, shared: bool = False
):
    """Start a real `celery worker` process, named `name`@host, on the real Redis broker,
    reading the test database; return it once it answers a ping. Unless `shared`, the
    session's shared worker takes no task while the worker is alive."""
    if not shared and not _own_workers_alive():
        _shared_worker_consumes(False)
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
        "REDIS_URL": settings.REDIS_URL,
    }
    hostname = f"{name}-{os.getpid()}@%h"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "armsmonitor",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "--hostname",
            hostname,
        ],
        cwd=PROJECT_DIR,
        env=environment,
    )
    if not shared:
        _OWN_WORKERS.append(worker)
    expected = hostname.split("@")[0]
    deadline = time.monotonic() + SAFETY_SECONDS
    answered: list[str] = []
    while not answered:
        replies = celery_app.control.ping(timeout=0.5)
        answered = [node for reply in replies for node in reply if expected in node]
        if not answered and (worker.poll() is not None or time.monotonic() > deadline):
            worker.kill()
            pytest.fail(f"The Celery worker {name} did not start.")
    if shared:
        _SHARED_WORKER.update(process=worker, nodes=answered, broker=celery_app.conf.broker_url)
    return worker


def stop_celery_worker(worker) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
    if _SHARED_WORKER.get("process") is worker:
        _SHARED_WORKER.clear()
    elif not _own_workers_alive():
        _shared_worker_consumes(True)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real worker process (solo pool), shared by the tests of a session.

    Session-scoped: starting a worker takes a few seconds. Tests that use it must commit
    their data (`django_db(transaction=True)`), since the worker has its own connection.
    """
    worker = start_celery_worker("test-worker", shared=True)
    yield worker
    stop_celery_worker(worker)


@pytest.fixture
def wsgi_requests_keep_the_test_transaction():
    """For requests sent through the WSGI application itself (Schemathesis): a real WSGI
    request closes "old" connections at its start and end, and in a test the connection
    holds the test's transaction (the Django test client does the same)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from tests.schema_driven import CREDENTIALS

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    CREDENTIALS.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Personas get passwords; the production hasher would spend seconds on each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The reference data that migrations load: (app, migration, function). A transactional
# test's flush empties it, and a test run after it by the same process (with pytest-xdist,
# a test a worker took from another's queue) would find none: it is loaded again after each
# flush, with the models as those migrations knew them.
REFERENCE_DATA = (
    ("incidents", "0027_manufacturers_list", "list_create"),
    ("geo", "0019_regional_instruments", "add_instruments"),
    ("geo", "0020_region_kinds", "instruments_marked"),
)
_MIGRATION_APPS: dict = {}


def _reference_data_load() -> None:
    """Through the default connection (the migrations' functions write with it), and only
    where the data is missing: a flush of a test's second alias may leave it in place."""
    from importlib import import_module

    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.loader import MigrationLoader

    for app, migration, function in REFERENCE_DATA:
        if (app, migration) not in _MIGRATION_APPS:
            loader = MigrationLoader(connections[DEFAULT_DB_ALIAS])
            state = loader.project_state((app, migration), at_end=True)
            _MIGRATION_APPS[(app, migration)] = state.apps
        apps = _MIGRATION_APPS[(app, migration)]
        if (
            function == "list_create"
            and apps.get_model("incidents", "Manufacturer").objects.exists()
        ):
            continue  # the other two are written to be run again
        getattr(import_module(f"{app}.migrations.{migration}"), function)(apps, None)


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_truncate_triggers():
    """Transactional tests empty the database with TRUNCATE, which the audit trail and the
    custody tables refuse (BEFORE TRUNCATE triggers): the flush switches triggers off for
    its own transaction, as only a superuser (the test connection) may. The reference data
    of the migrations is loaded again after it."""
    from django.db import transaction
    from django.db.backends.base.operations import BaseDatabaseOperations

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
            original(self, sql_list)
        # Once the flush's transaction has ended: the default connection writes the data,
        # and this one may be another (its TRUNCATE's locks would hold the default's wait).
        _reference_data_load()

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original


@pytest.fixture(scope="session")
def custody_signing_key_file(tmp_path_factory):
    """An Ed25519 private key of the test session's own, in a PEM file, as in production."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = tmp_path_factory.mktemp("custody-key") / "custody-signing-key.pem"
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture(autouse=True)
def _custody_digests_of_the_test(settings, tmp_path_factory, custody_signing_key_file):
    # Each test's digests in a folder of its own: never the developer's .data/, whose
    # digests would not match the test database's chains.
    settings.CUSTODY_DIGEST_DIR = tmp_path_factory.mktemp("custody-digests")
    settings.CUSTODY_SIGNING_KEY_FILE = str(custody_signing_key_file)


@pytest.fixture(scope="session", autouse=True)
def _empty_cache():
    # The cache is the real Redis (the run's own database, each xdist worker's own: see
    # tests/xdist_worker.py): start every run without what an earlier run left there.
    from django.core.cache import cache

    cache.clear()


# --- browser tests: Debian's Chromium driven by Playwright ----------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-quic",
        ],
    }


# Every wait of a page (an action, a navigation, an `expect`) ends on what it waits for; the
# defaults of Playwright (30 s, 5 s for `expect`) are shorter than a loaded machine needs.
expect.set_options(timeout=SAFETY_MS)


@pytest.fixture
def context(context):
    context.set_default_timeout(SAFETY_MS)
    context.set_default_navigation_timeout(SAFETY_MS)
    return context


@pytest.fixture
def world(db):
    """The personas and their records (tests/personas.py): the one world of the suite.
    A module that needs more records adds them with an autouse fixture that takes `world`
    (named for what it adds); the worlds below are this one with a documented layout."""
    from tests.personas import build_world

    return build_world()


@pytest.fixture
def countries_110m(db):
    """Natural Earth's 110m countries, as `manage.py load_boundaries` loads them. A module
    whose records must fall in a country requests it before `world`."""
    from geo.core.boundaries import countries_load

    countries_load(scale="110m")


@pytest.fixture
def flows_world(db):
    """The personas' world with the four hand-counted seizures of test_analysis_flows.py."""
    from tests.test_analysis_flows import flows_layout

    return flows_layout()


@pytest.fixture
def dashboard_world(db):
    """The personas' world with the seizures that test_dashboard.py's docstring counts."""
    from tests.test_dashboard import build_dashboard_world

    return build_dashboard_world()


@pytest.fixture
def weapons_traces_and_people(world):
    """Weapons (one traced to Bulgaria), ammunition and people on three persona records,
    in `world.weapons` and `world.trace`."""
    from datetime import date

    from django.contrib.gis.geos import Point

    from incidents.choices import WeaponCategory
    from incidents.models import AmmunitionItem, PersonsInvolved, TraceRequest, WeaponItem

    items = {}
    for name in ("alpha_verified_L5", "alpha_draft_L1", "charlie_verified_L5"):
        incident = world.records[name]
        items[name] = WeaponItem.objects.create(
            incident=incident,
            category=WeaponCategory.ASSAULT_RIFLE,
            make="Kalashnikov",
            model="AKM",
            serial_number=f"SN-{incident.id}",
            country_of_manufacture="RUS",
        )
        AmmunitionItem.objects.create(incident=incident, calibre="7.62x39mm", quantity=30)
        PersonsInvolved.objects.create(
            incident=incident, role="suspect", sex="female", age_group="adult", count=2
        )
    world.weapons = items
    world.trace = TraceRequest.objects.create(
        weapon=items["alpha_verified_L5"],
        addressee="Bulgaria",
        sent_on=date(2025, 4, 1),
        status="answered",
        diversion_established=True,
        diversion_country="BGR",
        diversion_point=Point(23.3219, 42.6977, srid=4326),
    )
