"""A metamorphic test of the location generalisation: for a reader of generalised locations,
every output is a function of the shown location only.

Each generated case records a few incidents (with an edit in their history, a weapon and a
trace answer with a point of diversion, an admin area and a nearest place), reads every
output as two readers of generalised locations do (an agency whose agreement withholds
exact coordinates, through the API; a regional analyst, through the pages, the map, the
analyses and the reports' figures), under generated filters (polygons drawn around a
shown point, boxes, map viewports). Then it moves every exact point at random within its
generalised cell (the history's points and the point of diversion too) and gives the
admin area and the nearest place other values (as a moved point may have), and reads
everything again: each answer must be the same, byte for byte (or as parsed where a file
format stamps its own creation time).

What stays visible by design, and so is kept fixed here: the country, which sharing
agreements and regional readers are defined by (docs/operators/access.md, "Access policy").
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import openpyxl
import pytest
from django.contrib.gis.geos import MultiPoint, Point, Polygon
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from geo.analyses.errors import AnalysisError
from geo.analyses.kinds import ANALYSES
from geo.analyses.source import analysis_choice, no_progress
from geo.models import AdminArea, Country, Place
from incidents.choices import (
    Context,
    IncidentKind,
    TraceStatus,
    WeaponCategory,
    WorkflowState,
)
from incidents.models import Incident, TraceRequest, WeaponItem
from incidents.services import h3_cell_of
from organisations.access import GENERALISED_CELL_DEGREES
from organisations.choices import Releasability
from reports.documents import figures

GRID = GENERALISED_CELL_DEGREES
# Cells around Bangui, as cell indices (longitude and latitude / GRID): 17.0–19.5 E, 3.5–5.5 N.
COLUMNS = (68, 78)
ROWS = (14, 22)
# Strictly inside a cell: a point on its edge could snap to either side.
OFFSET = st.floats(min_value=-0.1249, max_value=0.1249, allow_nan=False)
CELL = st.tuples(st.integers(*COLUMNS), st.integers(*ROWS))
EXAMPLES = 20


@dataclass(frozen=True)
class Spot:
    """A point inside one generalised cell: in world A at one offset, in world B at another."""

    cell: tuple[int, int]
    first: tuple[float, float]
    second: tuple[float, float]

    def point(self, moved: bool) -> Point:
        dx, dy = self.second if moved else self.first
        return Point(self.cell[0] * GRID + dx, self.cell[1] * GRID + dy, srid=4326)

    @property
    def shown(self) -> tuple[float, float]:
        return (self.cell[0] * GRID, self.cell[1] * GRID)


spots = st.builds(Spot, CELL, st.tuples(OFFSET, OFFSET), st.tuples(OFFSET, OFFSET))


@dataclass(frozen=True)
class Recorded:
    """One incident: where it was first recorded and where an edit put it; its point of
    diversion; which of two admin areas and places it gets in each world."""

    before_edit: Spot
    location: Spot
    diversion: Spot
    areas: tuple[int, int]
    places: tuple[int, int]
    day: int


recorded = st.builds(
    Recorded,
    spots,
    spots,
    spots,
    st.tuples(st.integers(0, 1), st.integers(0, 1)),
    st.tuples(st.integers(0, 1), st.integers(0, 1)),
    st.integers(1, 28),
)


@st.composite
def areas_around(draw, shown_points: list[tuple[float, float]]) -> Polygon:
    """A polygon around one of the shown points, from about a hundredth of a cell to two
    cells across: the shape an attacker draws to test where the exact point lies."""
    x, y = draw(st.sampled_from(shown_points))
    radius = draw(st.floats(min_value=0.002, max_value=0.5))
    corners = draw(
        st.lists(st.tuples(OFFSET, OFFSET), min_size=3, max_size=6).filter(
            lambda c: len(set(c)) >= 3
        )
    )
    hull = MultiPoint(
        [Point(x + dx / 0.125 * radius, y + dy / 0.125 * radius) for dx, dy in corners]
    ).convex_hull
    if not isinstance(hull, Polygon) or hull.area == 0:
        hull = Polygon.from_bbox((x - radius, y - radius, x + radius, y + radius))
    return hull


@st.composite
def cases(draw):
    incidents = draw(st.lists(recorded, min_size=2, max_size=6))
    shown_points = [incident.location.shown for incident in incidents]
    polygons = draw(st.lists(areas_around(shown_points), min_size=2, max_size=3))
    boxes = [polygon.extent for polygon in draw(st.lists(areas_around(shown_points), max_size=2))]
    zooms = draw(st.lists(st.sampled_from([5, 8, 10, 12, 14]), min_size=1, max_size=3))
    return incidents, polygons, boxes, zooms


# --- the world, and the incidents of one case ----------------------------------------


@pytest.fixture(autouse=True)
def areas_and_places(world):
    country = Country.objects.create(
        iso3="CAF", name="Central African Republic", boundary=_square(14, 2, 28, 11)
    )
    world.areas = [
        AdminArea.objects.create(
            country=country, level=1, name=name, code=name, boundary=_square(14, 2, 28, 11)
        )
        for name in ("Ombella-M'Poko", "Bangui")
    ]
    world.places = [
        Place.objects.create(
            geonameid=900_000 + number,
            name=name,
            search_name=name.lower(),
            country="CAF",
            point=Point(18.5, 4.4, srid=4326),
        )
        for number, name in enumerate(("Bimbo", "Begoua"))
    ]


def _square(minx, miny, maxx, maxy):
    from django.contrib.gis.geos import MultiPolygon

    return MultiPolygon(Polygon.from_bbox((minx, miny, maxx, maxy)), srid=4326)


def _record(world, case: Recorded) -> Incident:
    alpha = world.users["reporter_alpha"].memberships.get().contingent
    incident = Incident.objects.create(
        kind=IncidentKind.CACHE_DISCOVERY,
        context=Context.ARMED_CONFLICT,
        occurred_at=datetime(2025, 5, case.day, 8, tzinfo=UTC),
        location=case.before_edit.point(moved=False),
        country="CAF",
        mission=alpha.mission,
        contingent=alpha,
        state=WorkflowState.VERIFIED,
        releasability=Releasability.PARTNER_AGENCIES,
        narrative="Found in a cache.",
    )
    # An edit that moved the point: the history holds both points.
    incident.location = case.location.point(moved=False)
    incident.save()
    weapon = WeaponItem.objects.create(
        incident=incident,
        category=WeaponCategory.ASSAULT_RIFLE,
        quantity=1,
        serial_number=f"AK{incident.pk}",
        country_of_manufacture="RUS",
    )
    TraceRequest.objects.create(
        weapon=weapon,
        addressee="Russian Federation",
        sent_on=date(2025, 6, 1),
        answered_on=date(2025, 7, 1),
        status=TraceStatus.ANSWERED,
        diversion_established=True,
        diversion_country="CAF",
        diversion_point=case.diversion.point(moved=False),
    )
    return incident


def _place(world, incidents: list[Incident], cases: list[Recorded], *, moved: bool) -> None:
    """Put every exact point of world A (moved=False) or world B (moved=True), with the
    admin area, nearest place and H3 cell that go with it."""
    history = Incident.history.model
    for incident, case in zip(incidents, cases, strict=True):
        location = case.location.point(moved)
        Incident.objects.filter(pk=incident.pk).update(
            location=location,
            h3_cell=h3_cell_of(latitude=location.y, longitude=location.x),
            admin_area=world.areas[case.areas[moved]],
            nearest_place=world.places[case.places[moved]],
            # What an edit would set; the same in both worlds, as if recorded so.
            updated_at=datetime(2025, 8, 1, tzinfo=UTC),
        )
        rows = list(history.objects.filter(id=incident.pk).order_by("history_id"))
        for row, spot in zip(rows, [case.before_edit, case.location], strict=True):
            history.objects.filter(history_id=row.history_id).update(
                location=spot.point(moved),
                admin_area=world.areas[case.areas[moved]],
            )
        TraceRequest.objects.filter(weapon__incident=incident).update(
            diversion_point=case.diversion.point(moved)
        )


# --- what the readers get ---------------------------------------------------------------

CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"|csrftoken=[^;"]+')


def _wkt(polygon: Polygon) -> str:
    return polygon.wkt


def _bbox(extent) -> str:
    return ",".join(f"{value:.6f}" for value in extent)


def _answer(response) -> object:
    """What a response says, in a form that compares equal exactly when the answers are
    the same: the bytes, less what changes on every request (CSRF tokens, OGC time
    stamps, an XLSX file's own creation time)."""
    assert response.status_code == 200, (response.status_code, response.content[:500])
    content = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response["Content-Type"]
    if "spreadsheetml" in kind:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        return [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]
    if "json" in kind:
        answer = json.loads(content)
        if isinstance(answer, dict):
            answer.pop("timeStamp", None)
        return answer
    return CSRF_TOKEN.sub(b"", content)


def _plain(value):
    """An analysis result's numpy arrays and numbers, dates, geometries as JSON can hold them."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "geojson"):
        return value.geojson
    return str(value)


def agency_outputs(client, key: str, incidents, polygons, boxes) -> dict:
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    shapes = [{}] + [{"polygon": _wkt(p)} for p in polygons] + [{"bbox": _bbox(b)} for b in boxes]
    outputs = {}
    for number, shape in enumerate(shapes):
        for path in (
            "/api/v1/incidents",
            "/api/v1/incidents/export.csv",
            "/api/v1/incidents/export.geojson",
            "/api/v1/incidents/export.xlsx",
        ):
            outputs[path, number] = _answer(client.get(path, shape, **headers))
    for box_number, box in enumerate([*boxes, *(p.extent for p in polygons)]):
        outputs["ogc", box_number] = _answer(
            client.get("/ogc/collections/incidents/items", {"bbox": _bbox(box)}, **headers)
        )
    for incident in incidents:
        outputs["detail", incident.pk] = _answer(
            client.get(f"/api/v1/incidents/{incident.pk}", **headers)
        )
        outputs["ogc item", incident.pk] = _answer(
            client.get(f"/ogc/collections/incidents/items/{incident.pk}", **headers)
        )
    for path in ("/api/v1/trace-requests", "/api/v1/weapons"):
        outputs[path] = _answer(client.get(path, **headers))
    return outputs


def analyst_outputs(client, analyst, incidents, polygons, boxes, zooms) -> dict:
    client.force_login(analyst)
    outputs = {}
    filters = [{}] + [{"polygon": _wkt(p)} for p in polygons] + [{"bbox": _bbox(b)} for b in boxes]
    for number, incident_filter in enumerate(filters):
        outputs["list", number] = _answer(client.get("/incidents/", incident_filter))
        chosen, choice = analysis_choice(
            requester=analyst, mission_id=None, incident_filter=incident_filter
        )
        for kind, spec in ANALYSES.items():
            form = spec.parameters_form({})
            assert form.is_valid(), form.errors
            kept = {"chosen_by": choice} if spec.reads_kept_counts else {}
            try:
                result = spec.analyse(chosen, form.parameters(), no_progress, **kept)
            except AnalysisError as refusal:  # too few cells, nothing chosen: also an answer
                result = ("refused", str(refusal))
            outputs["analysis", kind, number] = json.dumps(result, default=_plain, sort_keys=True)
        outputs["figures", number] = json.dumps(
            [figures.by_area(chosen), figures.seizure_points(chosen), figures.totals(chosen)],
            default=_plain,
        )
    viewports = [p.extent for p in polygons] + list(boxes)
    for zoom in zooms:
        for number, viewport in enumerate(viewports):
            outputs["map", zoom, number] = _answer(
                client.get("/map/incidents.geojson", {"bbox": _bbox(viewport), "zoom": zoom})
            )
    for incident in incidents:
        outputs["page", incident.pk] = _answer(client.get(f"/incidents/{incident.pk}/"))
        outputs["popup", incident.pk] = _answer(client.get(f"/map/incidents/{incident.pk}.json"))
    return outputs


def _everything(client, world, incidents, polygons, boxes, zooms) -> dict:
    # Nothing answered from what an earlier read left in the cache.
    cache.clear()
    key = world.api_keys["partner_agency"]
    return {
        "agency": agency_outputs(client, key, incidents, polygons, boxes),
        "regional analyst": analyst_outputs(
            client, world.users["regional_analyst"], incidents, polygons, boxes, zooms
        ),
    }


class Rollback(Exception):
    """Ends a case's transaction: each case starts from the same world."""


@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_moving_exact_points_within_their_cells_changes_no_output_for_generalised_readers(
    client, world, case
):
    recorded_incidents, polygons, boxes, zooms = case
    try:
        with transaction.atomic():
            incidents = [_record(world, incident) for incident in recorded_incidents]
            _place(world, incidents, recorded_incidents, moved=False)
            before = _everything(client, world, incidents, polygons, boxes, zooms)
            # The readers do see these records: the comparison is not of empty answers.
            ids = {incident.pk for incident in incidents}
            listed = {row["id"] for row in before["agency"]["/api/v1/incidents", 0]["results"]}
            assert ids <= listed
            totals = json.loads(before["regional analyst"]["figures", 0])[2]
            assert totals["incidents"] >= len(ids)
            _place(world, incidents, recorded_incidents, moved=True)
            after = _everything(client, world, incidents, polygons, boxes, zooms)
            for reader, outputs in before.items():
                for output, answer in outputs.items():
                    assert after[reader][output] == answer, (reader, output)
            raise Rollback
    except Rollback:
        pass


def test_the_moves_do_change_what_a_reader_of_exact_locations_gets(client, world):
    """The converse, so that the test above cannot pass by reading nothing that moves: the
    administrator, who sees exact points, gets other answers after the same moves."""
    case = Recorded(
        before_edit=Spot((74, 17), (0.01, 0.02), (0.1, -0.1)),
        location=Spot((74, 17), (0.03, 0.04), (-0.1, 0.1)),
        diversion=Spot((73, 17), (0.0, 0.0), (0.05, 0.05)),
        areas=(0, 1),
        places=(0, 1),
        day=3,
    )
    incident = _record(world, case)
    client.force_login(world.users["admin"])
    _place(world, [incident], [case], moved=False)
    before = _answer(client.get(f"/api/v1/incidents/{incident.pk}"))
    page_before = _answer(client.get(f"/incidents/{incident.pk}/"))
    _place(world, [incident], [case], moved=True)
    assert _answer(client.get(f"/api/v1/incidents/{incident.pk}")) != before
    assert _answer(client.get(f"/incidents/{incident.pk}/")) != page_before
