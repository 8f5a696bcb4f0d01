"""Checks shared by the tests of the map's kept counts (incidents/derived/map_cells.py):
the cells a viewport reads from them equal the cells counted from the incidents, before
and after the log of changes is merged, and the merged cells equal cells made from
scratch."""

from urllib.parse import urlencode

from django.contrib.gis.geos import Polygon
from django.db import connection
from django.http import QueryDict

from geo.map import layers
from incidents.access import incident_visibility
from incidents.derived.map_cells import KEPT_UP_TO, MAX_LEVEL, MIN_LEVEL, IncidentMapCell
from incidents.derived.merging import map_changes_merge
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident

WORLD_BOX = "-180,-90,180,90"
COLUMNS = (
    "level, generalised, grain, row_index, column_index, month, mission_id, contingent_id,"
    " state, releasability, country, kind, context, categories, incidents"
)
SUMS = "sum_x, sum_y"


def _cells(query) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return sorted(cursor.fetchall())


def _same_cells(read: list[tuple], counted: list[tuple]) -> bool:
    """The same cells with the same counts, at the same mean positions up to the float
    error of sums kept over many additions and subtractions (far below a metre)."""
    return len(read) == len(counted) and all(
        (a[:3] == b[:3] and abs(a[3] - b[3]) < 1e-9 and abs(a[4] - b[4]) < 1e-9)
        for a, b in zip(read, counted, strict=True)
    )


def kept_equals_counted(user, zoom: int, grain: int, **filters) -> None:
    """At `zoom`, the cells read from the kept counts (at `grain`, the one the filters
    ask for) are the cells counted from the incidents, with the log not merged and then
    merged; beyond the grain's finest kept level, the kept counts decline to answer."""
    visibility = incident_visibility(user)
    filterset = IncidentFilterSet(
        QueryDict(urlencode({"bbox": WORLD_BOX, **filters}, doseq=True)),
        queryset=Incident.objects.visible_with(visibility),
    )
    assert filterset.is_valid(), filterset.errors
    box = Polygon.from_bbox((-180, -90, 180, 90))
    kept = layers.kept_cells_query(
        filterset.form.cleaned_data, visibility, zoom=zoom, bbox=box, incidents=filterset.qs
    )
    if min(max(zoom, MIN_LEVEL), MAX_LEVEL) > KEPT_UP_TO[grain]:
        assert kept is None
        return
    assert kept is not None
    counted = _cells(layers.cells_query(filterset.qs, zoom=zoom))
    read = _cells(kept)
    assert _same_cells(read, counted), f"with changes not merged yet: {read} != {counted}"
    map_changes_merge()
    read = _cells(kept)
    assert _same_cells(read, counted), f"merged: {read} != {counted}"


def kept_rows_are_counted_from_scratch() -> None:
    """Once the log is merged, every kept row equals the row that counting the incidents
    and weapons as they stand from scratch gives (geo_map_cells_rebuild(); rows whose count
    fell to zero stay, empty), and no row is negative."""
    map_changes_merge()
    assert not IncidentMapCell.objects.filter(incidents__lt=0).exists()
    query = f"SELECT {COLUMNS}, {SUMS} FROM geo_incidentmapcell WHERE incidents <> 0"
    with connection.cursor() as cursor:
        cursor.execute(query)
        kept = sorted(cursor.fetchall())
        cursor.execute("SELECT geo_map_cells_rebuild()")
        cursor.execute(query)
        counted = sorted(cursor.fetchall())
    # Keys and counts exactly; the sums of coordinates up to the float error of sums kept
    # over many additions and subtractions.
    assert [row[:-2] for row in kept] == [row[:-2] for row in counted]
    for made, remade in zip(kept, counted, strict=True):
        assert abs(made[-2] - remade[-2]) < 1e-6 and abs(made[-1] - remade[-1]) < 1e-6
