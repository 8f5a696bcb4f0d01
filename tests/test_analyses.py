"""Analysis runs: requested within the requester's access, reused on unchanged data,
marked stale on change, failing with a reason; clusters, density and trends checked on
hand-made layouts."""

from datetime import UTC, datetime

import h3
import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError

from geo.analyses.hexagons import cell_of
from geo.analyses.kinds import ANALYSES
from geo.analyses.services import (
    analysis_run_cancel,
    analysis_run_execute,
    analysis_run_request,
    result_for_reader,
    run_is_stale,
)
from geo.models import AnalysisCell, AnalysisRun, IncidentCluster
from incidents.choices import WorkflowState
from incidents.models import TraceRequest, WeaponItem
from incidents.services import incident_withdraw
from organisations.models import Membership
from tests.analysis_layouts import north_of, persons, seizure

CACHES = {"kind": ["cache_discovery"]}


def run_now(requester, kind, parameters=None, incident_filter=None) -> AnalysisRun:
    """Request a run and execute it here, as the worker would (the worker itself is
    exercised in test_analysis_worker.py)."""
    run = analysis_run_request(
        requester=requester,
        kind=kind,
        parameters=parameters or {},
        incident_filter=CACHES if incident_filter is None else incident_filter,
    )
    analysis_run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    return run


def two_groups_and_a_stray():
    """Group A: 5 incidents within 400 m near Bouar; group B: 4 within 300 m near Bambari;
    one stray incident far from both."""
    group_a = [north_of(15.6, 5.93, metres) for metres in (0, 100, 200, 300, 400)]
    group_b = [north_of(20.67, 5.76, metres) for metres in (0, 100, 200, 300)]
    for point in [*group_a, *group_b, (18.0, 7.0)]:
        seizure(*point)


def test_dbscan_finds_the_hand_made_clusters_and_the_noise(world):
    two_groups_and_a_stray()

    run = run_now(
        world.users["mission_analyst"], "clusters", {"distance_m": 150, "min_incidents": 3}
    )

    assert run.state == "done", run.error
    assert run.result["summary"] == {
        "incidents": 10,
        "clusters": 2,
        "incidents_in_clusters": 9,
        "noise": 1,
    }
    clusters = list(IncidentCluster.objects.filter(run=run).order_by("-incidents"))
    assert [cluster.incidents for cluster in clusters] == [5, 4]
    assert clusters[0].hull.covers(clusters[0].centroid)
    assert abs(clusters[0].centroid.x - 15.6) < 1e-9
    assert abs(clusters[1].centroid.x - 20.67) < 1e-9


def test_dbscan_distance_is_in_metres_on_the_ground(world):
    core = [north_of(15.6, 5.93, metres) for metres in (0, 10, 20)]
    for point in core:
        seizure(*point)
    seizure(*north_of(15.6, 5.93, 20 + 990))  # within 1 km of the last core point
    seizure(*north_of(15.6, 5.93, 20 + 990 + 1015))  # 1,015 m further: outside

    run = run_now(
        world.users["mission_analyst"], "clusters", {"distance_m": 1000, "min_incidents": 3}
    )

    assert run.result["summary"]["clusters"] == 1
    assert run.result["summary"]["incidents_in_clusters"] == 4
    assert run.result["summary"]["noise"] == 1


def test_an_identical_request_on_unchanged_data_returns_the_stored_run(world):
    two_groups_and_a_stray()
    analyst = world.users["mission_analyst"]
    first = run_now(analyst, "clusters", {"distance_m": 150, "min_incidents": 3})

    again = analysis_run_request(
        requester=analyst,
        kind="clusters",
        parameters={"min_incidents": 3, "distance_m": 150.0},
        incident_filter={"kind": "cache_discovery", "ordering": "-occurred_at"},
    )

    assert again.pk == first.pk and again.reused
    assert AnalysisRun.objects.count() == 1


def test_a_change_to_the_records_marks_the_result_stale_and_a_new_request_recomputes(world):
    two_groups_and_a_stray()
    analyst = world.users["mission_analyst"]
    first = run_now(analyst, "clusters", {"distance_m": 150, "min_incidents": 3})
    assert not run_is_stale(first)

    newcomer = seizure(*north_of(20.67, 5.76, 400))
    assert run_is_stale(first)
    second = run_now(analyst, "clusters", {"distance_m": 150, "min_incidents": 3})
    assert second.pk != first.pk
    assert second.result["summary"]["incidents_in_clusters"] == 10

    incident_withdraw(incident=newcomer, by=world.users["admin"], reason="entered twice")
    assert run_is_stale(second)


def test_runs_read_only_what_the_requester_may_read(world):
    # A draft of contingent Bravo: not visible to MINUSCA's analysts.
    for metres in (0, 50, 100):
        seizure(*north_of(15.6, 5.93, metres), state=WorkflowState.DRAFT, contingent_name="Bravo")
    for metres in (0, 50, 100):
        seizure(*north_of(20.67, 5.76, metres))

    analyst_run = run_now(
        world.users["mission_analyst"], "clusters", {"distance_m": 150, "min_incidents": 3}
    )
    reporter_run = run_now(
        world.users["admin"], "clusters", {"distance_m": 150, "min_incidents": 3}
    )

    assert analyst_run.incidents_read == 3
    assert analyst_run.result["summary"]["clusters"] == 1
    assert reporter_run.result["summary"]["clusters"] == 2


def test_a_reader_of_generalised_locations_gets_clusters_of_generalised_points(world):
    for metres in (0, 50, 100):
        seizure(*north_of(18.583713, 4.367141, metres), releasability=3)

    run = run_now(
        world.users["regional_analyst"], "clusters", {"distance_m": 150, "min_incidents": 3}
    )

    cluster = IncidentCluster.objects.get(run=run)
    for longitude, latitude in [cluster.centroid.coords]:
        assert (longitude / 0.25).is_integer() and (latitude / 0.25).is_integer()


def test_who_may_ask_for_an_analysis(world):
    with pytest.raises(PermissionDenied):
        analysis_run_request(
            requester=world.users["reporter_alpha"],
            kind="trends",
            parameters={},
            incident_filter={},
        )
    for persona in ("mission_analyst", "verifier", "wps_analyst", "regional_analyst", "admin"):
        run = analysis_run_request(
            requester=world.users[persona], kind="trends", parameters={}, incident_filter={}
        )
        assert run.state == "queued"


@pytest.mark.parametrize(
    ("kind", "parameters", "incident_filter", "field"),
    [
        ("teleportation", {}, {}, "kind"),
        ("clusters", {"distance_m": -5}, {}, "parameters.distance_m"),
        ("clusters", {"min_incidents": "many"}, {}, "parameters.min_incidents"),
        ("hotspots", {"resolution": 12}, {}, "parameters.resolution"),
        ("trends", {"period": "fortnight"}, {}, "parameters.period"),
        ("trends", {}, {"occurred_after": "last tuesday"}, "filter.occurred_after"),
        ("trends", {}, {"kind": "teleportation"}, "filter.kind"),
        ("trends", [], {}, "parameters"),
        ("flows", {"region_codes": ["atlantis"]}, {}, "parameters.region_codes"),
        ("flows", {"period": "decade"}, {}, "parameters.period"),
        ("serial_batches", {"min_items": 1}, {}, "parameters.min_items"),
        ("emerging_hotspots", {"steps": 2}, {}, "parameters.steps"),
    ],
)
def test_bad_requests_name_the_field_and_make_no_run(
    world, kind, parameters, incident_filter, field
):
    with pytest.raises(ValidationError) as refused:
        analysis_run_request(
            requester=world.users["mission_analyst"],
            kind=kind,
            parameters=parameters,
            incident_filter=incident_filter,
        )
    assert field in refused.value.message_dict
    assert not AnalysisRun.objects.exists()


def test_a_run_that_cannot_be_done_fails_and_says_why(world):
    run = run_now(
        world.users["mission_analyst"], "clusters", {"distance_m": 150, "min_incidents": 3}
    )

    assert run.state == "failed"
    assert run.error == "No incidents match the filter."
    assert run.finished_at is not None


def test_a_density_grid_too_fine_for_the_area_fails_naming_the_parameter(world):
    seizure(15.0, 4.0)
    seizure(23.0, 10.0)

    run = run_now(
        world.users["mission_analyst"], "density", {"cell_size_m": 100, "bandwidth_m": 500}
    )

    assert run.state == "failed"
    assert run.error.startswith("cell_size_m:")


def test_density_peaks_where_incidents_concentrate(world):
    for metres in range(0, 2000, 200):
        seizure(*north_of(18.0, 5.0, metres))
    seizure(21.0, 8.0)

    run = run_now(
        world.users["mission_analyst"], "density", {"cell_size_m": 1000, "bandwidth_m": 3000}
    )

    latitude, longitude, peak = run.result["points"][0]
    assert peak == pytest.approx(run.result["peak"], abs=1e-6)
    assert abs(longitude - 18.0) < 0.03 and 4.99 < latitude < 5.03
    # Ten incidents under a kernel of σ = 3 km: the peak density is close to
    # 10 / (2π σ²) ≈ 0.18 per km² (a little less: the incidents are spread over 1.8 km).
    assert 0.12 < peak < 0.18


def test_a_cancelled_run_is_not_started(world):
    two_groups_and_a_stray()
    run = analysis_run_request(
        requester=world.users["mission_analyst"],
        kind="clusters",
        parameters={"distance_m": 150, "min_incidents": 3},
        incident_filter=CACHES,
    )
    analysis_run_cancel(run=run)
    analysis_run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.state == "cancelled" and run.result is None


def test_trends_count_by_period_and_show_gender_figures_only_to_those_entitled(world):
    first = seizure(18.0, 5.0, occurred_at=datetime(2025, 1, 10, tzinfo=UTC), gbv_link=True)
    seizure(18.0, 5.0, occurred_at=datetime(2025, 1, 20, tzinfo=UTC))
    seizure(18.0, 5.0, occurred_at=datetime(2025, 3, 5, tzinfo=UTC), context="armed_conflict")
    persons(first, female_adult_victim=2, male_adult_suspect=3)

    run = run_now(world.users["wps_analyst"], "trends", {"period": "month"})

    contexts = run.result["series"]["incidents_by_context"]
    assert contexts == [
        {"period": "2025-01-01", "key": "criminal", "count": 2},
        {"period": "2025-03-01", "key": "armed_conflict", "count": 1},
    ]
    assert run.result["series"]["incidents_by_country"] == [
        {"period": "2025-01-01", "key": "CAF", "count": 2},
        {"period": "2025-03-01", "key": "CAF", "count": 1},
    ]
    people = result_for_reader(run, world.users["wps_analyst"])["gender"]
    # Counts of people print small-cell suppressed (tests/test_suppression_everywhere.py).
    assert people["persons_by_role_sex_age"] == [
        {"period": "2025-01-01", "key": "suspect/male/adult", "count": "< 5"},
        {"period": "2025-01-01", "key": "victim/female/adult", "count": "< 5"},
    ]
    assert people["gbv_linked_incidents"][0]["count"] == 1
    assert "gender" not in result_for_reader(run, world.users["mission_analyst"])


def spread_around(longitude, latitude, count, *, step_m=300, **fields):
    for index in range(count):
        seizure(*north_of(longitude, latitude, step_m * index), **fields)


def test_hot_spots_put_the_concentration_in_the_hottest_class_and_store_the_hexagons(world):
    spread_around(18.55, 4.36, 40, step_m=20)  # Bangui: many incidents in one hexagon
    for index in range(12):  # a thin scatter elsewhere
        seizure(15.0 + index * 0.7, 6.0 + (index % 3) * 0.8)

    run = run_now(world.users["mission_analyst"], "hotspots", {"resolution": 6, "rings": 1})

    assert run.state == "done", run.error
    summary = run.result["summary"]
    # Gi* counts a cell's neighbourhood: the hexagons around the concentration are as hot
    # (those of the study area: Bangui is a corner of the points' hull, and the empty cells
    # beyond it are left out).
    bangui_cell = format(cell_of(4.36, 18.55, 6), "x")
    hottest = {cell["cell"]: cell for cell in summary["hottest"]}
    assert hottest[bangui_cell]["class"] == "hot_99" and hottest[bangui_cell]["count"] == 40
    around_bangui = [
        cell for name, cell in hottest.items() if h3.grid_distance(bangui_cell, name) <= 1
    ]
    assert len(around_bangui) >= 3
    assert {cell["class"] for cell in around_bangui} == {"hot_99"}
    assert summary["total"] == 52
    assert summary["cells"] == AnalysisCell.objects.filter(run=run).count()
    stored = AnalysisCell.objects.get(run=run, cell=cell_of(4.36, 18.55, 6))
    assert stored.spot_class == 3 and stored.incidents == 40
    assert stored.boundary.contains(Point(18.55, 4.36, srid=4326))


def test_hot_spots_count_weapons_when_asked(world):
    bangui = seizure(18.55, 4.36)
    WeaponItem.objects.create(incident=bangui, category="rifles_carbines", quantity=7)
    for index in range(10):
        seizure(15.0 + index * 0.7, 6.0)

    run = run_now(
        world.users["mission_analyst"], "hotspots", {"resolution": 5, "measure": "weapons"}
    )

    assert run.result["summary"]["total"] == 7


def test_emerging_hot_spots_find_a_new_hot_spot(world):
    for month in range(1, 13):
        seizure(15.0 + month * 0.5, 6.0, occurred_at=datetime(2025, month, 3, tzinfo=UTC))
    spread_around(18.55, 4.36, 25, step_m=20, occurred_at=datetime(2025, 12, 20, tzinfo=UTC))

    run = run_now(
        world.users["mission_analyst"],
        "emerging_hotspots",
        {"resolution": 6, "period": "month", "steps": 12},
    )

    assert run.state == "done", run.error
    assert run.result["summary"]["steps"][-1] == "2025-12-01"
    bangui = AnalysisCell.objects.get(run=run, cell=cell_of(4.36, 18.55, 6))
    assert bangui.pattern == "new_hot"
    assert run.result["summary"]["cells_per_pattern"]["new_hot"] >= 1


@pytest.mark.parametrize("kind", sorted(ANALYSES))
def test_every_kind_runs_to_the_end_through_the_service(world, kind):
    spread_around(18.55, 4.36, 30, step_m=20)
    for index in range(12):
        incident = seizure(15.0 + index * 0.7, 6.0 + (index % 3) * 0.8)
        WeaponItem.objects.create(
            incident=incident,
            category="assault_rifle",
            make="Kalashnikov",
            model="AKM",
            serial_number=f"KA{1000 + index}",
            country_of_manufacture="RUS",
            quantity=1,
        )

    run = run_now(world.users["admin"], kind)

    assert run.state == "done", run.error
    assert run.progress == 100 and run.finished_at >= run.started_at
    assert run.result


def test_editing_a_weapon_or_answering_a_trace_marks_a_flows_result_stale(world):
    incident = seizure(18.0, 5.0)
    weapon = WeaponItem.objects.create(
        incident=incident, category="assault_rifle", country_of_manufacture="RUS", quantity=1
    )
    run = run_now(world.users["admin"], "flows")
    assert run.state == "done", run.error
    assert not run_is_stale(run)

    WeaponItem.objects.filter(pk=weapon.pk).update(country_of_manufacture="CHN")
    assert run_is_stale(run)
    run = run_now(world.users["admin"], "flows")
    assert not run_is_stale(run)

    trace = TraceRequest.objects.create(
        weapon=weapon, addressee="China", sent_on=datetime(2025, 7, 1, tzinfo=UTC).date()
    )
    assert run_is_stale(run)
    run = run_now(world.users["admin"], "flows")
    TraceRequest.objects.filter(pk=trace.pk).update(transit_countries=["CMR"])
    assert run_is_stale(run)


def test_a_reader_granted_no_records_gets_a_failed_run_not_an_error(world):
    lonely = world.users["nobody"]
    Membership.objects.create(user=lonely, role="regional_analyst")  # no region assigned

    run = run_now(lonely, "clusters", incident_filter={})

    assert run.incidents_read == 0
    assert run.state == "failed" and run.error == "No incidents match the filter."
