"""Which country a point belongs to, as a mission would say it.

Boundaries are generalised (Natural Earth draws the Ubangi a few hundred metres off its
course at Bangui), and missions record seizures on both banks of border rivers. A point
strictly inside a neighbour by a few hundred metres is, for a mission, almost always in its
host country. So, within BORDER_TOLERANCE_M of a boundary:

- the *candidates* are every country whose boundary lies within the tolerance of the point;
- the mission's host country wins whenever it is a candidate (the covering one first, when
  a mission has several hosts);
- else the country whose boundary covers the point; else (at sea, off the coast) the
  nearest candidate; else none;
- the point is flagged `near_border` when there are several candidates, or none covers it.

A country that a person states (the import's `country` column) is accepted when it is a
candidate, and refused otherwise.

A point can also be plainly implausible for its mission: at 0, 0; with latitude and
longitude swapped (the swapped point lies in the mission's area or host countries); outside
the mission's area of operations (beyond the tolerance); in no host country. Such a point
is never written silently: `geo_location_doubt` says why, and a person confirms it
explicitly (the import's `location_confirmed` column) or corrects it.

The rule is one SQL function, `geo_country_near(point, host_countries, tolerance_m)`,
installed by migration geo 0015 and made fast by geo 0022 (distances measured on short
pieces of the parts' rings, COUNTRY_EDGES), so that the entry form, the API and the bulk
import place points alike.
"""

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext_lazy as _

# Two sets of pieces of line in geo_countryedge:
# - the country's boundary line cut into pieces of at most BOUNDARY_PIECE_VERTICES vertices
#   (part_ring false): a map cell that none comes near lies inside one country, or outside
#   all (the import's cells);
# - the rings of its parts (geo_countrypart) cut into pieces of PART_RING_SEGMENTS
#   segments, each an unbroken run of the ring's own vertices, none added, none moved
#   (part_ring true): the distance from a point outside a part to the part is the distance
#   to its ring, so measured on the few pieces near the point it is the very distance
#   measured before on the whole part (the same segments on the globe), without casting a
#   polygon of hundreds of vertices to geography for every point. The rings hold the lines
#   that cut a country into parts, which lie inside it (no point outside is nearer to them
#   than to the boundary) and would make every cell they cross a boundary cell: hence the
#   two sets. Consecutive pieces of a ring share a vertex.
BOUNDARY_PIECE_VERTICES = 256
PART_RING_SEGMENTS = 8
COUNTRY_EDGES = f"""
DELETE FROM geo_countryedge;
INSERT INTO geo_countryedge (country_id, edge, part_ring)
SELECT iso3, ST_Subdivide(ST_Boundary(boundary), {BOUNDARY_PIECE_VERTICES}), false
FROM geo_country;
INSERT INTO geo_countryedge (country_id, edge, part_ring)
SELECT line.country_id, ST_MakeLine(vertex.geom ORDER BY vertex.path[1]), true
FROM (SELECT part.id, part.country_id, ring.path, ring.geom
      FROM geo_countrypart AS part, ST_Dump(ST_Boundary(part.part)) AS ring) AS line,
     ST_DumpPoints(line.geom) AS vertex,
     -- Vertex n (from 1) is in piece (n - 1) / {PART_RING_SEGMENTS}; a vertex where two
     -- pieces meet ends the one before as well.
     unnest(CASE WHEN vertex.path[1] > 1 AND (vertex.path[1] - 1) % {PART_RING_SEGMENTS} = 0
                 THEN ARRAY[(vertex.path[1] - 1) / {PART_RING_SEGMENTS} - 1,
                            (vertex.path[1] - 1) / {PART_RING_SEGMENTS}]
                 ELSE ARRAY[(vertex.path[1] - 1) / {PART_RING_SEGMENTS}] END) AS piece
-- The last vertex alone (it closes the ring) begins no piece.
WHERE piece * {PART_RING_SEGMENTS} < ST_NPoints(line.geom) - 1
GROUP BY line.id, line.country_id, line.path, piece;
"""  # noqa: S608 - the only values put in are our constants

# The distance from a point to a country is 0 when one of its parts covers the point, and
# else the distance to the nearest ring of its parts, measured on the rings' short pieces
# (COUNTRY_EDGES). Whole parts are cast to geography only for the one part that covers the
# point, and where the choice between two or more candidates falls to their distances (two
# host countries, or the sea between countries): there the distances are measured on whole
# parts as geo 0015 measured them, on the globe, where a point that a part covers on the
# map may lie a few metres outside it. So every point keeps the answer it had.
COUNTRY_NEAR_FUNCTION = """
CREATE OR REPLACE FUNCTION geo_country_near(point geometry, hosts text[], tolerance_m float8)
RETURNS TABLE (country text, near_border boolean, candidates text[])
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH reach AS (
        -- The box test lets the spatial index answer; the geography test is in metres.
        SELECT ST_Expand(point,
                   tolerance_m / 111320.0 / greatest(cos(radians(ST_Y(point))), 0.01),
                   tolerance_m / 110574.0) AS box
    ), near AS (
        -- A part covers the point on the map; on the globe, whose edges are great circles,
        -- a long straight edge bows away and may leave the point outside, beyond the
        -- tolerance: such a part was never counted, and is not.
        SELECT part.country_id AS country, true AS covers, 0::float8 AS metres
        FROM geo_countrypart AS part
        WHERE ST_Covers(part.part, point)
          AND ST_DWithin(part.part::geography, point::geography, tolerance_m)
        UNION ALL
        SELECT edge.country_id, false, ST_Distance(edge.edge::geography, point::geography)
        FROM geo_countryedge AS edge, reach
        WHERE edge.edge && reach.box AND edge.part_ring
          AND ST_DWithin(edge.edge::geography, point::geography, tolerance_m)
    ), candidate AS (
        SELECT country, bool_or(covers) AS covers, min(metres) AS metres
        FROM near GROUP BY country
    ), host AS (
        SELECT c.*, count(*) OVER (PARTITION BY c.covers) AS alike
        FROM candidate AS c WHERE c.country = ANY(hosts)
    )
    SELECT COALESCE(
               (SELECT h.country FROM host AS h
                ORDER BY h.covers DESC,
                         CASE WHEN h.alike > 1 THEN (
                             SELECT min(ST_Distance(part.part::geography, point::geography))
                             FROM geo_countrypart AS part, reach
                             WHERE part.country_id = h.country AND part.part && reach.box)
                         ELSE h.metres END,
                         h.country
                LIMIT 1),
               (SELECT c.country FROM candidate AS c WHERE c.covers
                ORDER BY c.country LIMIT 1),
               (SELECT c.country FROM candidate AS c
                ORDER BY CASE WHEN (SELECT count(*) FROM candidate) > 1 THEN (
                             SELECT min(ST_Distance(part.part::geography, point::geography))
                             FROM geo_countrypart AS part, reach
                             WHERE part.country_id = c.country AND part.part && reach.box)
                         ELSE c.metres END,
                         c.country
                LIMIT 1),
               ''),
           (SELECT count(*) > 1 OR (count(*) = 1 AND NOT bool_or(covers)) FROM candidate),
           ARRAY(SELECT c.country FROM candidate AS c ORDER BY c.country)
$$;
"""
DROP_COUNTRY_NEAR_FUNCTION = "DROP FUNCTION geo_country_near(geometry, text[], float8);"

# Why a mission's point looks wrong, as a code of LOCATION_DOUBTS, or NULL. `country` is the
# point's country as placed; `area` the mission's area of operations (NULL when it has
# none); `judge_countries` false when no boundaries are loaded (every point would be "in no
# country").
LOCATION_DOUBT_FUNCTION = """
CREATE FUNCTION geo_location_doubt(
    point geometry, country text, hosts text[], area geometry, tolerance_m float8,
    judge_countries boolean
) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN abs(ST_X(point)) < 1e-9 AND abs(ST_Y(point)) < 1e-9 THEN 'zero'
        WHEN NOT (
                (area IS NULL OR ST_DWithin(area::geography, point::geography, tolerance_m))
                AND (NOT judge_countries OR cardinality(hosts) = 0 OR country = ANY(hosts)))
             AND abs(ST_X(point)) <= 90
             AND ((area IS NOT NULL AND ST_Covers(area, ST_FlipCoordinates(point)))
                  OR (judge_countries AND EXISTS (
                      SELECT 1 FROM geo_countrypart AS part
                      WHERE part.country_id = ANY(hosts)
                        AND ST_Covers(part.part, ST_FlipCoordinates(point))))) THEN 'swapped'
        WHEN area IS NOT NULL
             AND NOT ST_DWithin(area::geography, point::geography, tolerance_m) THEN
            'outside_area'
        WHEN judge_countries AND cardinality(hosts) > 0 AND NOT country = ANY(hosts) THEN
            'outside_hosts'
    END
$$;
"""
DROP_LOCATION_DOUBT_FUNCTION = (
    "DROP FUNCTION geo_location_doubt(geometry, text, text[], geometry, float8, boolean);"
)


def border_tolerance_m() -> float:
    return float(settings.BORDER_TOLERANCE_M)


def country_near(
    *, longitude: float, latitude: float, host_countries: list[str]
) -> tuple[str, bool, list[str]]:
    """(country, near_border, candidates) of a point for a mission with `host_countries`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM geo_country_near(ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s)",
            [longitude, latitude, list(host_countries), border_tolerance_m()],
        )
        country, near_border, candidates = cursor.fetchone()
    return country, near_border, list(candidates)


LOCATION_DOUBTS = {
    "zero": _("the point is 0, 0, in the Gulf of Guinea: a location left blank?"),
    "swapped": _(
        "with latitude and longitude swapped, the point would lie in the mission's area: "
        "are they swapped?"
    ),
    "outside_area": _("the point lies outside the mission's area of operations"),
    "outside_hosts": _(
        "the point lies in %(country)s, outside the mission's host countries (%(hosts)s)"
    ),
}


def location_doubt_message(code: str, *, country: str, host_countries: list[str]) -> str:
    """What a person reads of a doubt code of geo_location_doubt."""
    return str(LOCATION_DOUBTS[code]) % {
        "country": country or _("no country"),
        "hosts": ", ".join(host_countries),
    }


def location_doubt(
    *,
    longitude: float,
    latitude: float,
    host_countries: list[str],
    area_of_operations,
    confirmed_country: str = "",
) -> str | None:
    """Why the point looks wrong for a mission with these host countries and area (a
    message), or None. A country a person stated counts as confirmed for the host check."""
    hosts = [*host_countries, confirmed_country] if confirmed_country else list(host_countries)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT placed.country, geo_location_doubt(
                point, COALESCE(NULLIF(%s, ''), placed.country), %s, %s::geometry, %s,
                (SELECT EXISTS (SELECT 1 FROM geo_countrypart)))
            FROM ST_SetSRID(ST_MakePoint(%s, %s), 4326) AS position(point),
                 geo_country_near(point, %s, %s) AS placed
            """,
            [
                confirmed_country,
                hosts,
                area_of_operations.ewkt if area_of_operations else None,
                border_tolerance_m(),
                longitude,
                latitude,
                list(host_countries),
                border_tolerance_m(),
            ],
        )
        country, code = cursor.fetchone()
    if code is None:
        return None
    return location_doubt_message(code, country=country, host_countries=list(host_countries))
