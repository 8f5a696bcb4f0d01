"""Shared fixtures: a real Celery worker process, and a small set of records."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from armsmonitor.celery import app as celery_app

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _database_url(database: dict) -> str:
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return (
        f"postgres://{database['USER']}{password}@{database['HOST'] or 'localhost'}"
        f":{database['PORT'] or 5432}/{database['NAME']}"
    )


def start_celery_worker(name: str, *, pool: str = "solo", concurrency: int = 1):
    """Start a real `celery worker` process, named `name`@host, on the real Redis broker,
    reading the test database; return it once it answers a ping."""
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
    expected = hostname.split("@")[0]
    deadline = time.monotonic() + 60
    while not any(
        expected in name for reply in celery_app.control.ping(timeout=0.5) for name in reply
    ):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"The Celery worker {name} did not start.")
    return worker


def stop_celery_worker(worker) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real worker process (solo pool), shared by the tests of a session.

    Session-scoped: starting a worker takes a few seconds. Tests that use it must commit
    their data (`django_db(transaction=True)`), since the worker has its own connection.
    """
    worker = start_celery_worker("test-worker")
    yield worker
    stop_celery_worker(worker)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Personas get passwords; the production hasher would spend seconds on each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _empty_cache():
    # The cache is the real Redis (the test database 15): start every run without what an
    # earlier run left there.
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
