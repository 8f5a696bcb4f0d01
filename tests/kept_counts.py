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
ROUNDED_SUMS = "round(sum_x::numeric, 6), round(sum_y::numeric, 6)"


def _cells(query) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return sorted((c, r, n, round(x, 6), round(y, 6)) for c, r, n, x, y in cursor)


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
    assert _cells(kept) == counted, "with changes not merged yet"
    map_changes_merge()
    assert _cells(kept) == counted, "merged"


def kept_rows_are_counted_from_scratch() -> None:
    """Once the log is merged, every kept row equals the row that counting the incidents
    and weapons as they stand from scratch gives (geo_map_cells_rebuild(); rows whose count
    fell to zero stay, empty), and no row is negative."""
    map_changes_merge()
    assert not IncidentMapCell.objects.filter(incidents__lt=0).exists()
    query = f"SELECT {COLUMNS}, {ROUNDED_SUMS} FROM geo_incidentmapcell WHERE incidents <> 0"
    with connection.cursor() as cursor:
        cursor.execute(query)
        kept = sorted(cursor.fetchall())
        cursor.execute("SELECT geo_map_cells_rebuild()")
        cursor.execute(query)
        counted = sorted(cursor.fetchall())
    assert kept == counted
