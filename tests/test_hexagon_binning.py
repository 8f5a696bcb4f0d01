"""Analyses bin each point by the H3 cell that contains it at the asked resolution (issue 18),
not by the parent of its stored resolution-8 cell, which is another hexagon for points near
a coarse hexagon's edge. The edge points are found with h3 here."""

from collections import Counter
from datetime import UTC, datetime

import h3
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from geo.analyses.hexagons import cell_counts, cell_of
from geo.analyses.services import analysis_run_execute, analysis_run_request
from geo.analyses.source import analysis_incidents
from geo.models import AnalysisCell
from incidents.models import Incident, WeaponItem
from organisations.access import GENERALISED_CELL_DEGREES
from tests.analysis_layouts import seizure

# Near Bangui; the personas' own records (checkpoint seizures) are left out by the filter.
BANGUI = (4.3612, 18.5521)
CACHES = {"kind": ["cache_discovery"]}


def parent_of_stored_cell(latitude: float, longitude: float, resolution: int) -> int:
    stored = h3.latlng_to_cell(latitude, longitude, 8)
    return int(h3.cell_to_parent(stored, resolution), 16)


def edge_points(resolution: int, count: int) -> list[tuple[float, float]]:
    """`count` points near Bangui (latitude, longitude) whose resolution-8 cell's parent is
    not the cell containing them, each in a cell of its own and none in another's parent:
    a walk over a grid whose step (about 110 m at resolution 6) follows the hexagons' size."""
    found, cells, parents = [], set(), set()
    step = 0.001 * 7 ** ((6 - resolution) / 2)
    latitude, longitude = BANGUI
    for row in range(200):
        for column in range(200):
            point = (latitude + row * step, longitude + column * step)
            cell = cell_of(*point, resolution)
            parent = parent_of_stored_cell(*point, resolution)
            if parent == cell or cell in cells | parents or parent in cells:
                continue
            found.append(point)
            cells.add(cell)
            parents.add(parent)
            if len(found) == count:
                return found
    raise AssertionError("not enough edge points found")


def counted(requester, resolution: int, **keywords) -> Counter:
    incidents = analysis_incidents(requester=requester, mission_id=None, incident_filter=CACHES)
    cells, counts, _periods = cell_counts(incidents, resolution=resolution, **keywords)
    return Counter(dict(zip(cells.tolist(), counts.tolist(), strict=True)))


@pytest.mark.parametrize("resolution", [5, 6, 7])
def test_each_point_near_a_hexagon_edge_is_counted_in_the_hexagon_containing_it(world, resolution):
    points = edge_points(resolution, 6)
    for latitude, longitude in points:
        seizure(longitude, latitude)

    counts = counted(world.users["mission_analyst"], resolution, measure="incidents")

    assert counts == Counter(cell_of(*point, resolution) for point in points)
    for point in points:
        assert parent_of_stored_cell(*point, resolution) not in counts


def test_weapons_and_periods_are_counted_in_the_hexagon_containing_the_point(world):
    points = edge_points(6, 4)
    for month, (latitude, longitude) in enumerate(points, start=1):
        incident = seizure(longitude, latitude, occurred_at=datetime(2025, month, 9, tzinfo=UTC))
        WeaponItem.objects.create(incident=incident, category="rifles_carbines", quantity=month)
    incidents = analysis_incidents(
        requester=world.users["mission_analyst"], mission_id=None, incident_filter=CACHES
    )

    cells, counts, _ = cell_counts(incidents, resolution=6, measure="weapons")
    by_month = cell_counts(incidents, resolution=6, measure="incidents", period="month")

    expected = Counter()
    for month, point in enumerate(points, start=1):
        expected[cell_of(*point, 6)] += month
    assert Counter(dict(zip(cells.tolist(), counts.tolist(), strict=True))) == expected
    assert sorted(zip(by_month[0].tolist(), by_month[2].tolist(), strict=True)) == sorted(
        (cell_of(*point, 6), datetime(2025, month, 1).date())
        for month, point in enumerate(points, start=1)
    )
    assert by_month[1].tolist() == [1.0] * len(points)


def test_hot_spots_store_each_edge_point_in_the_hexagon_containing_it(world):
    # Three far corners widen the points' hull, so that the study area around the edge
    # points holds the cells Gi* needs (empty cells outside the hull are left out).
    points = [*edge_points(6, 6), (4.0, 16.0), (7.0, 16.5), (5.5, 21.0)]
    for latitude, longitude in points:
        seizure(longitude, latitude)
    analyst = world.users["mission_analyst"]
    run = analysis_run_request(
        requester=analyst, kind="hotspots", parameters={"resolution": 6}, incident_filter=CACHES
    )
    analysis_run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()

    assert run.state == "done", run.error
    stored = {
        cell.cell: cell.incidents for cell in AnalysisCell.objects.filter(run=run, incidents__gt=0)
    }
    assert stored == Counter(cell_of(*point, 6) for point in points)


def test_generalised_locations_are_binned_from_the_point_a_reader_may_see(world):
    points = edge_points(7, 5)
    for latitude, longitude in points:
        seizure(longitude, latitude, releasability=3)
    reader = world.users["regional_analyst"]
    seen = Incident.objects.visible_to(reader).filter(kind="cache_discovery")
    assert len(seen) == len(points) and not any(incident.location_is_exact for incident in seen)

    counts = counted(reader, 7, measure="incidents")

    shown = [(incident.shown_location.y, incident.shown_location.x) for incident in seen]
    assert all(
        (value / GENERALISED_CELL_DEGREES).is_integer() for point in shown for value in point
    )
    assert counts == Counter(cell_of(*point, 7) for point in shown)
    assert counts != Counter(cell_of(*point, 7) for point in points)


class Rollback(Exception):
    """Ends an example's transaction: each example starts from the same world."""


# Points in a box of about 20 km around Bangui, so that examples put several points in one
# coarse hexagon, and some near its edges.
latitudes = st.floats(BANGUI[0] - 0.1, BANGUI[0] + 0.1, allow_nan=False)
longitudes = st.floats(BANGUI[1] - 0.1, BANGUI[1] + 0.1, allow_nan=False)


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    points=st.lists(st.tuples(latitudes, longitudes), min_size=1, max_size=12),
    resolution=st.integers(4, 8),
)
def test_any_points_are_counted_in_the_cells_h3_puts_them_in(world, points, resolution):
    try:
        with transaction.atomic():
            for latitude, longitude in points:
                seizure(longitude, latitude)
            counts = counted(world.users["mission_analyst"], resolution, measure="incidents")
            assert counts == Counter(cell_of(*point, resolution) for point in points)
            raise Rollback
    except Rollback:
        pass
