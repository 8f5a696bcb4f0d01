"""Reads behind the OGC API: the caller's incidents as GeoJSON features, built in PostgreSQL
from the `visible_to` queryset, so geometries are the ones the caller may see and no row's
geometry is parsed in Python."""

from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Polygon
from django.db import connections
from django.db.models import F, Max, Min

from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from incidents.ogc.parameters import Interval
from incidents.querysets import IncidentQuerySet
from organisations.access import Principal

# The columns the inner query selects, under the names the outer query reads.
PAGE_COLUMNS = (
    "id",
    "kind",
    "occurred_at",
    "country",
    "context",
    "mission_acronym",
    "contingent_name",
    "releasability",
    "state",
    "location_is_exact",
    "location_precision",
    "updated_at",
    "geometry",
)
# Django writes a condition that can never hold as the constant 0, hence the boolean cast.
FEATURES_SQL = """
SELECT page.id, json_build_object(
    'type', 'Feature',
    'id', page.id,
    'geometry', page.geometry::json,
    'properties', json_build_object(
        'id', page.id,
        'kind', page.kind,
        'occurred_at', page.occurred_at,
        'country', page.country,
        'context', page.context,
        'mission', page.mission_acronym,
        'contingent', page.contingent_name,
        'releasability', page.releasability,
        'state', page.state,
        'location_is_exact', page.location_is_exact::boolean,
        'location_precision', page.location_precision,
        'updated_at', page.updated_at
    )
)::text
FROM ({page}) AS page
ORDER BY page.id
"""


def ogc_incidents(
    *,
    principal: Principal,
    bbox: tuple[float, float, float, float] | None = None,
    interval: Interval | None = None,
) -> IncidentQuerySet:
    """The incidents of the OGC collection: what `principal` may see, without withdrawn
    records (the list's filterset leaves them out), in `bbox` and `interval` (inclusive)."""
    data = {}
    if interval and interval.start:
        data["occurred_after"] = interval.start.isoformat()
    if interval and interval.end:
        data["occurred_before"] = interval.end.isoformat()
    incidents = IncidentFilterSet(data=data, queryset=Incident.objects.visible_to(principal)).qs
    if bbox:
        box = Polygon.from_bbox(bbox)
        box.srid = 4326
        incidents = incidents.shown_in(box)
    return incidents


def feature_page(
    incidents: IncidentQuerySet, *, limit: int, after: int | None
) -> tuple[list[str], int | None]:
    """Up to `limit` features (GeoJSON text) with ids above `after`, by id; and the id to
    continue after, or None on the last page. Keyset paging: a deep page costs what the
    first one does."""
    if after is not None:
        incidents = incidents.filter(id__gt=after)
    rows = _features(incidents, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return [feature for _id, feature in rows], (rows[-1][0] if more else None)


def feature_one(incidents: IncidentQuerySet, *, pk: int) -> str | None:
    rows = _features(incidents.filter(id=pk), 1)
    return rows[0][1] if rows else None


def _features(incidents: IncidentQuerySet, limit: int) -> list[tuple[int, str]]:
    page = (
        incidents.annotate(
            geometry=AsGeoJSON("shown_location", precision=6),
            mission_acronym=F("mission__acronym"),
            contingent_name=F("contingent__name"),
        )
        .order_by("id")
        .values(*PAGE_COLUMNS)[:limit]
    )
    sql, params = page.query.sql_with_params()
    with connections[page.db].cursor() as cursor:
        # Only the queryset's own compiled SQL is interpolated; values stay parameters.
        cursor.execute(FEATURES_SQL.format(page=sql), params)
        return cursor.fetchall()


def collection_extent(incidents: IncidentQuerySet) -> dict:
    """The box around the shown locations and the first and last occurrence; None values
    when there are no incidents."""
    return incidents.aggregate(
        bbox=Extent("shown_location"), start=Min("occurred_at"), end=Max("occurred_at")
    )
