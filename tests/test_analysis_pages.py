"""The analyses pages: start a run on a filter, follow it, read its result."""

import pytest

from geo.analyses.services import analysis_run_execute
from geo.models import AnalysisRun
from tests.analysis_layouts import north_of, seizure


@pytest.fixture(autouse=True)
def three_close_seizures(world):
    for metres in (0, 50, 100):
        seizure(*north_of(15.6, 5.93, metres))


def test_an_analyst_starts_a_run_on_a_filter_and_reads_its_result(client, world):
    client.force_login(world.users["mission_analyst"])
    page = client.get("/analyses/?kind=clusters")
    assert page.status_code == 200
    assert "parameters-distance_m" in page.content.decode()

    started = client.post(
        "/analyses/?kind=clusters&mission=MINUSCA",
        {"parameters-distance_m": "150", "parameters-min_incidents": "3"},
    )
    run = AnalysisRun.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/analyses/{run.pk}"
    assert run.incident_filter == {"mission": ["MINUSCA"]}
    assert run.incidents_read == 9  # MINUSCA's six verified records and the three above
    assert run.parameters == {"distance_m": 150.0, "min_incidents": 3}

    analysis_run_execute(run_id=run.pk, worker="test")
    status = client.get(f"/analyses/{run.pk}.json").json()
    assert status["finished"] and status["progress"] == 100
    result_page = client.get(f"/analyses/{run.pk}").content.decode()
    assert "incidents_in_clusters" in result_page
    assert f"/api/v1/analyses/{run.pk}/clusters.geojson" in result_page


def test_bad_parameters_are_shown_on_the_form_and_start_nothing(client, world):
    client.force_login(world.users["mission_analyst"])
    response = client.post("/analyses/?kind=density", {"parameters-cell_size_m": "-3"})
    assert response.status_code == 200
    assert "parameters.cell_size_m" in response.content.decode()
    assert not AnalysisRun.objects.exists()


def test_reporters_may_not_open_the_analyses_and_others_runs_stay_hidden(client, world):
    client.force_login(world.users["reporter_alpha"])
    assert client.get("/analyses/").status_code == 403
    client.force_login(world.users["mission_analyst"])
    client.post("/analyses/?kind=trends", {})
    run = AnalysisRun.objects.get()
    client.force_login(world.users["verifier"])
    assert client.get(f"/analyses/{run.pk}").status_code == 404
    assert client.get(f"/analyses/{run.pk}.json").status_code == 404
    assert client.post(f"/analyses/{run.pk}/cancel").status_code == 404
