"""Health of the platform's parts: the database, PostGIS, Redis and the Celery workers
(and the read replica, when one is configured).

Each probe returns a dict with at least `ok`; a probe never raises, so one part being down
never hides the state of the others.
"""

from typing import Any

import celery
import redis
from django.conf import settings
from django.db import connection

PROBE_TIMEOUT_SECONDS = 2.0


def database_health() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server_version = cursor.fetchone()[0]
            cursor.execute("SELECT postgis_lib_version()")
            postgis_version = cursor.fetchone()[0]
    except Exception as error:  # any failure means "down", with the reason shown
        return {
            "database": {"ok": False, "error": str(error).strip()},
            "postgis": {"ok": False, "error": "database unreachable"},
        }
    return {
        "database": {"ok": True, "version": server_version},
        "postgis": {"ok": True, "version": postgis_version},
    }


def redis_health() -> dict[str, Any]:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=PROBE_TIMEOUT_SECONDS,
            socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        )
        info = client.info("server")
    except redis.RedisError as error:
        return {"ok": False, "error": str(error)}
    return {"ok": True, "version": info["redis_version"]}


def celery_health() -> dict[str, Any]:
    from armsmonitor.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as broker:
            broker.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT_SECONDS)
            replies = app.control.ping(timeout=1.0, connection=broker)
    except Exception as error:  # broker down or refusing: no worker can be asked
        return {"ok": False, "workers": 0, "error": str(error)}
    workers = sorted(name for reply in replies for name in reply)
    return {
        "ok": bool(workers),
        "version": celery.__version__,
        "workers": len(workers),
        "worker_names": workers,
        **({} if workers else {"error": "no Celery worker answered"}),
    }


def jobs_health() -> dict[str, Any]:
    """Jobs queued or running past their lease (lost task, dead worker), by kind; not ok
    above STUCK_JOBS_HEALTH_THRESHOLD. The watchdog takes them up within one interval, so
    a count that stays up means the watchdog (Celery beat) or the workers are not running."""
    from armsmonitor.jobs import stuck_jobs_count

    try:
        counts = stuck_jobs_count()
    except Exception as error:  # the database probe reports the cause
        return {"ok": False, "error": str(error).strip()}
    stuck = sum(counts.values())
    threshold = settings.STUCK_JOBS_HEALTH_THRESHOLD
    return {
        "ok": stuck <= threshold,
        "stuck": stuck,
        "threshold": threshold,
        "by_kind": counts,
        **({} if stuck <= threshold else {"error": f"{stuck} jobs are stuck"}),
    }


def replica_health() -> dict[str, Any]:
    """The read replica's state and lag (armsmonitor/replica.py). Not ok when it does not
    answer; its readers then read the primary."""
    from armsmonitor.replica import replica_lag

    try:
        lag = replica_lag()
    except Exception as error:  # unreachable, or not a standby: the reason shown
        return {"ok": False, "error": str(error).strip(), "readers_use": "primary"}
    return {
        "ok": True,
        "lag_seconds": lag.seconds,
        "lag_bytes": lag.bytes,
        "replay_paused": lag.paused,
        "readers_use": "replica",
    }


def platform_health() -> dict[str, Any]:
    """All probes in one report; `ok` is true only when every part answers, except the
    read replica: without it the platform reads the primary and serves every request, and
    a load balancer must not take every web node out for it (its own `ok` says it is down)."""
    from armsmonitor.replica import replica_configured

    parts = {**database_health(), "redis": redis_health()}
    parts["jobs"] = (
        jobs_health() if parts["database"]["ok"] else {"ok": False, "error": "database unreachable"}
    )
    parts["celery"] = (
        celery_health()
        if parts["redis"]["ok"]
        else {"ok": False, "workers": 0, "error": "broker unreachable"}
    )
    ok = all(part["ok"] for part in parts.values())
    if replica_configured():
        parts["replica"] = replica_health()
    return {"ok": ok, **parts}
