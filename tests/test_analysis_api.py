"""The analyses API: start, poll, fetch, cancel — within the access policy."""

import pytest

from geo.analyses.services import analysis_run_execute
from geo.models import AnalysisRun
from tests.analysis_layouts import north_of, seizure

CLUSTERS = {
    "kind": "clusters",
    "parameters": {"distance_m": 150, "min_incidents": 3},
    "filter": {"kind": ["cache_discovery"]},
}


@pytest.fixture(autouse=True)
def three_close_seizures(world):
    for metres in (0, 50, 100):
        seizure(*north_of(15.6, 5.93, metres))


def start(client, world, persona, body=CLUSTERS, **headers):
    if persona in world.api_keys:
        headers["HTTP_AUTHORIZATION"] = f"Api-Key {world.api_keys[persona]}"
    else:
        client.force_login(world.users[persona])
    return client.post("/api/v1/analyses", body, content_type="application/json", **headers)


def test_an_analyst_starts_polls_and_fetches_a_run(client, world):
    started = start(client, world, "mission_analyst")
    assert started.status_code == 202
    run_id = started.json()["id"]
    assert started.json()["state"] == "queued"

    analysis_run_execute(run_id=run_id, worker="test")
    polled = client.get(f"/api/v1/analyses/{run_id}").json()

    assert polled["state"] == "done" and polled["progress"] == 100
    assert polled["stale"] is False
    assert polled["result"]["summary"]["clusters"] == 1
    hulls = client.get(f"/api/v1/analyses/{run_id}/clusters.geojson").json()
    assert hulls["type"] == "FeatureCollection"
    assert [feature["properties"]["incidents"] for feature in hulls["features"]] == [3]

    again = start(client, world, "mission_analyst")
    assert again.status_code == 200 and again.json()["id"] == run_id


def test_bad_parameters_are_refused_naming_the_field(client, world):
    body = {**CLUSTERS, "parameters": {"distance_m": "far"}}
    response = start(client, world, "mission_analyst", body)
    assert response.status_code == 400
    assert "parameters.distance_m" in response.json()
    unknown_kind = start(client, world, "mission_analyst", {**CLUSTERS, "kind": "astrology"})
    assert unknown_kind.status_code == 400 and "kind" in unknown_kind.json()
    assert not AnalysisRun.objects.exists()


@pytest.mark.parametrize("persona", ["reporter_alpha", "nobody", "partner_agency"])
def test_those_who_may_not_analyse_are_refused(client, world, persona):
    assert start(client, world, persona).status_code == 403
    assert not AnalysisRun.objects.exists()


def test_runs_are_private_to_their_requester(client, world):
    run_id = start(client, world, "mission_analyst").json()["id"]
    client.logout()
    client.force_login(world.users["verifier"])
    assert client.get(f"/api/v1/analyses/{run_id}").status_code == 404
    assert client.get(f"/api/v1/analyses/{run_id}/clusters.geojson").status_code == 404
    assert client.post(f"/api/v1/analyses/{run_id}/cancel").status_code == 404
    assert client.get("/api/v1/analyses").json()["count"] == 0
    agency = {"HTTP_AUTHORIZATION": f"Api-Key {world.api_keys['partner_agency']}"}
    client.logout()
    assert client.get("/api/v1/analyses", **agency).json()["count"] == 0


def test_a_queued_run_can_be_cancelled(client, world):
    run_id = start(client, world, "mission_analyst").json()["id"]
    cancelled = client.post(f"/api/v1/analyses/{run_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
