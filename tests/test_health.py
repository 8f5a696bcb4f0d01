"""/healthz tells whether each part of the platform answers, and turns 503 when one does not."""

import pytest

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.mark.django_db(transaction=True)
def test_healthz_is_green_with_database_postgis_redis_and_a_worker(client, celery_worker_process):
    response = client.get("/healthz")

    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is True
    assert report["database"]["version"].startswith("15")
    assert report["postgis"]["version"].startswith("3.")
    assert report["redis"]["version"]
    assert report["celery"]["workers"] >= 1


@pytest.mark.django_db
def test_healthz_turns_503_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = UNREACHABLE_REDIS
    settings.CELERY_BROKER_URL = UNREACHABLE_REDIS

    response = client.get("/healthz")

    assert response.status_code == 503
    report = response.json()
    assert report["ok"] is False
    assert report["redis"]["ok"] is False
    assert report["celery"]["ok"] is False
    assert report["database"]["ok"] is True, "a Redis outage must not hide a healthy database"


@pytest.mark.django_db
def test_healthz_is_not_cached(client, settings):
    settings.REDIS_URL = UNREACHABLE_REDIS
    settings.CELERY_BROKER_URL = UNREACHABLE_REDIS

    response = client.get("/healthz")

    assert "no-store" in response["Cache-Control"]
