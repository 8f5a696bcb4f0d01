"""The deployment files are valid: docker-compose.yml passes `docker-compose config`."""

import shutil
import subprocess
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_docker_compose_file_validates(tmp_path):
    shutil.copy(PROJECT_DIR / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(PROJECT_DIR / ".env.example", tmp_path / ".env")

    result = subprocess.run(
        ["docker-compose", "config"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    for service in ("db", "redis", "web", "worker", "control", "beat"):
        assert f"  {service}:" in result.stdout
    assert result.stdout.count("healthcheck:") >= 5


def test_the_job_watchdog_has_a_queue_and_a_worker_of_its_own(monkeypatch):
    """Behind a backlog of long jobs the watchdog would wait for them, and the lost jobs
    with it: beat sends it to the control queue, which every worker reads and a small worker
    of its own reads alone (docker-compose `control`, make run)."""
    from django.conf import settings

    watchdog = settings.CELERY_BEAT_SCHEDULE["jobs-watchdog"]
    assert watchdog["options"]["queue"] == settings.CONTROL_QUEUE
    assert [queue.name for queue in settings.CELERY_TASK_QUEUES] == [
        settings.CELERY_TASK_DEFAULT_QUEUE,
        settings.CONTROL_QUEUE,
    ]
    # Each bound by its own key: sharing one, every task would go to both queues, twice.
    bindings = [(queue.exchange.name, queue.routing_key) for queue in settings.CELERY_TASK_QUEUES]
    assert bindings == [(queue.name, queue.name) for queue in settings.CELERY_TASK_QUEUES]
    control, default = settings.CONTROL_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE
    assert control == f"{default}.control"
    compose = (PROJECT_DIR / "docker-compose.yml").read_text()
    assert '"--queues", "celery.control"' in compose  # the default queue is "celery"
    run = (PROJECT_DIR / "scripts" / "run.sh").read_text()
    assert '--queues "${CONTROL_QUEUE:-${CELERY_QUEUE:-celery}.control}"' in run
