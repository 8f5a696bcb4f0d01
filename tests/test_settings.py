"""Production settings pass Django's deployment checks; a missing secret is refused."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
PRODUCTION_ENVIRONMENT = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 10 + "a-long-random-production-secret-with-enough-variety-0123456789",
    "ALLOWED_HOSTS": "armsmonitor.example.org",
    "CUSTODY_HMAC_KEYS": "k2026:a-long-random-custody-hmac-secret-0123456789",
}


def run_manage(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    # An empty working .env must not leak DEBUG=true into the production check.
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECRET_KEY", "CUSTODY_HMAC_KEYS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=PROJECT_DIR,
        env={**clean, **environment, "ARMSMONITOR_ENV_FILE": "/dev/null"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_reports_nothing_in_production_mode():
    result = run_manage(
        "check", "--deploy", "--fail-level", "DEBUG", environment=PRODUCTION_ENVIRONMENT
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_mode_refuses_to_start_without_a_secret_key():
    environment = {**PRODUCTION_ENVIRONMENT, "SECRET_KEY": ""}

    result = run_manage("check", environment=environment)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_mode_refuses_to_start_without_a_custody_hmac_key():
    environment = {**PRODUCTION_ENVIRONMENT, "CUSTODY_HMAC_KEYS": ""}

    result = run_manage("check", environment=environment)

    assert result.returncode != 0
    assert "CUSTODY_HMAC_KEYS must be set" in result.stderr


def test_custody_keys_that_are_short_or_not_listed_are_refused():
    for keys, current, message in [
        ("k1:short", "", "at least 32 characters"),
        ("k1:" + "s" * 40, "k2", "CUSTODY_HMAC_KEY_ID must name a key"),
    ]:
        environment = {
            **PRODUCTION_ENVIRONMENT,
            "CUSTODY_HMAC_KEYS": keys,
            **({"CUSTODY_HMAC_KEY_ID": current} if current else {}),
        }

        result = run_manage("check", environment=environment)

        assert result.returncode != 0
        assert message in result.stderr


def test_the_web_process_does_not_load_the_analysis_libraries():
    # They weigh some 200 MB; only Celery workers running analyses need them.
    probe = (
        "import sys, django; django.setup();"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "print(sorted(m for m in ('sklearn', 'esda', 'libpysal', 'numba', 'pandas', 'scipy')"
        " if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "armsmonitor.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
