"""The application's side of the read-replica test: one process of the platform, with
DATABASE_URL on a private primary and DATABASE_REPLICA_URL on its replica (set by
tests/test_read_replica.py), answering one JSON command per line on stdin with one JSON
line on stdout:

    {"do": "seed", "incidents": 200}    demo incidents and an administrator
    {"do": "map", "language": "fr"}     the map data of the demo area, as the page asks it
    {"do": "write"}                     one more incident, through the ORM (the primary)
    {"do": "analysis", "kind": "trends"}  an analysis, run to its end in this process
    {"do": "health"}                    /healthz

One process for the whole test, as a web worker: its connections are kept between
commands (CONN_MAX_AGE), so a replica that stops under it is seen as it would be in
production.
"""

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "armsmonitor.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.test import Client  # noqa: E402

from armsmonitor.celery import app as celery_app  # noqa: E402
from geo.analyses.services import analysis_run_request  # noqa: E402
from geo.models import AnalysisRun  # noqa: E402
from incidents.choices import Context, IncidentKind, WorkflowState  # noqa: E402
from incidents.demo import demo_dataset_create  # noqa: E402
from incidents.models import Incident  # noqa: E402
from organisations.models import Contingent  # noqa: E402

# The demo's area (the Central African Republic, the DR Congo and South Sudan), whole.
MAP_QUERY = {"bbox": "10,-15,35,15", "zoom": "5"}
ADMIN = "replica-admin"

# Analyses run here, in this process, when requested (no worker in this test).
celery_app.conf.task_always_eager = True


def _client() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=ADMIN))
    return client


def seed(command: dict) -> dict:
    get_user_model().objects.create_superuser(ADMIN, "admin@example.org", "not-used-here")
    summary = demo_dataset_create(incidents=command["incidents"])
    return {"incidents": summary.incidents}


def map_read(command: dict) -> dict:
    response = _client().get(
        "/map/incidents.geojson",
        {**MAP_QUERY, **command.get("query", {})},
        headers={"accept-language": command.get("language", "en")},
    )
    return _answer(response)


def write(command: dict) -> dict:
    contingent = Contingent.objects.order_by("pk").first()
    incident = Incident.objects.create(
        kind=IncidentKind.CHECKPOINT_SEIZURE,
        context=Context.ARMED_CONFLICT,
        occurred_at=datetime(2025, 3, 14, 9, 30, tzinfo=UTC),
        location=Point(20.9, 6.6, srid=4326),
        country="CAF",
        mission=contingent.mission,
        contingent=contingent,
        state=WorkflowState.VERIFIED,
        releasability=3,
    )
    return {"id": incident.pk}


def analysis(command: dict) -> dict:
    run = analysis_run_request(
        requester=get_user_model().objects.get(username=ADMIN),
        kind=command.get("kind", "trends"),
        parameters=command.get("parameters", {"period": "month"}),
        incident_filter=command.get("filter", {}),
    )
    run = AnalysisRun.objects.get(pk=run.pk)
    return {"state": run.state, "why_failed": run.error, "result": run.result}


def health(command: dict) -> dict:
    return _answer(Client().get("/healthz"))


def _answer(response) -> dict:
    if "json" not in response.get("Content-Type", ""):
        return {"status": response.status_code, "text": response.content.decode()[:2000]}
    return {"status": response.status_code, "body": json.loads(response.content)}


COMMANDS = {"seed": seed, "map": map_read, "write": write, "analysis": analysis, "health": health}


def main() -> None:
    for line in sys.stdin:
        command = json.loads(line)
        try:
            answer = COMMANDS[command["do"]](command)
        except Exception as error:  # the test shows it; the process goes on
            answer = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
