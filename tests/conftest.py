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


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` process on the real Redis broker, reading the test database.

    Session-scoped: starting a worker takes a few seconds. Tests that use it must commit
    their data (`django_db(transaction=True)`), since the worker has its own connection.
    """
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
        "REDIS_URL": settings.REDIS_URL,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "armsmonitor",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--hostname",
            f"test-worker-{os.getpid()}@%h",
        ],
        cwd=PROJECT_DIR,
        env=environment,
    )
    deadline = time.monotonic() + 60
    while not celery_app.control.ping(timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail("The Celery worker did not start.")
    yield worker
    worker.terminate()
    worker.wait(timeout=30)


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
