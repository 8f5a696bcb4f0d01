"""A real Celery worker, over the real Redis, runs a PostGIS query on the real database."""

import pytest

from incidents.demo import demo_dataset_create
from incidents.models import Incident, WeaponItem
from incidents.tasks import summarise_mission
from organisations.models import Mission
from tests.waiting import SAFETY_SECONDS


@pytest.mark.django_db(transaction=True)
def test_worker_summarises_a_mission_from_the_database(celery_worker_process):
    demo_dataset_create(incidents=120, seed=7)
    mission = Mission.objects.get(acronym="MINUSCA")
    incidents = list(Incident.objects.filter(mission=mission))
    longitudes = [incident.location.x for incident in incidents]
    latitudes = [incident.location.y for incident in incidents]

    summary = summarise_mission.delay(mission.id).get(timeout=SAFETY_SECONDS)

    assert summary["incidents"] == len(incidents) > 0
    assert summary["incidents_by_kind"] == {
        kind: sum(1 for incident in incidents if incident.kind == kind)
        for kind in {incident.kind for incident in incidents}
    }
    assert summary["weapons"] == WeaponItem.objects.filter(incident__mission=mission).count()
    assert summary["extent"] == pytest.approx(
        [min(longitudes), min(latitudes), max(longitudes), max(latitudes)]
    )
