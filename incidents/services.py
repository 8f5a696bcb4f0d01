"""Writes and rules about incidents."""

from collections.abc import Iterable

from django.db import connection

# Derived in PostGIS from the point: the country whose boundary covers it (the first by
# code on a border; none at sea), the deepest admin area that covers it, and the nearest
# named place (KNN on the gazetteer's GiST index).
ASSIGN_GEOGRAPHY_SQL = """
UPDATE incidents_incident AS incident SET
    country = COALESCE((
        SELECT part.country_id FROM geo_countrypart AS part
        WHERE ST_Covers(part.part, incident.location)
        ORDER BY part.country_id LIMIT 1), ''),
    admin_area_id = (
        SELECT area.id FROM geo_adminarea AS area
        WHERE ST_Covers(area.boundary, incident.location)
        ORDER BY area.level DESC, area.id LIMIT 1),
    nearest_place_id = (
        SELECT place.geonameid FROM geo_place AS place
        ORDER BY place.point <-> incident.location LIMIT 1)
WHERE incident.id = ANY(%s)
"""


def incidents_assign_geography(*, incident_ids: Iterable[int]) -> int:
    """Set country, admin area and nearest named place of the given incidents from their
    locations, in one statement; return how many incidents were updated."""
    with connection.cursor() as cursor:
        cursor.execute(ASSIGN_GEOGRAPHY_SQL, [list(incident_ids)])
        return cursor.rowcount
