# Issue 24: a country's distance is measured on short pieces of its parts' rings rather
# than on whole parts cast to geography for every point (geo/core/borders.py): the pieces
# are added beside the boundary's (part_ring), and geo_country_near reads them.
from django.db import migrations, models

from geo.core.borders import COUNTRY_EDGES, COUNTRY_NEAR_FUNCTION

# As geo 0003 cut the edges and geo 0015 defined the function, for going back.
EDGES_BEFORE = """
DELETE FROM geo_countryedge;
INSERT INTO geo_countryedge (country_id, edge, part_ring)
SELECT iso3, ST_Subdivide(ST_Boundary(boundary), 256), false FROM geo_country;
"""
COUNTRY_NEAR_BEFORE = """
CREATE OR REPLACE FUNCTION geo_country_near(point geometry, hosts text[], tolerance_m float8)
RETURNS TABLE (country text, near_border boolean, candidates text[])
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH near AS (
        -- The box test lets the spatial index answer; the geography test is in metres.
        SELECT part.country_id AS country, ST_Covers(part.part, point) AS covers,
               ST_Distance(part.part::geography, point::geography) AS metres
        FROM geo_countrypart AS part
        WHERE part.part && ST_Expand(point,
                  tolerance_m / 111320.0 / greatest(cos(radians(ST_Y(point))), 0.01),
                  tolerance_m / 110574.0)
          AND ST_DWithin(part.part::geography, point::geography, tolerance_m)
    ), candidate AS (
        SELECT country, bool_or(covers) AS covers, min(metres) AS metres
        FROM near GROUP BY country
    )
    SELECT COALESCE(
               (SELECT c.country FROM candidate AS c WHERE c.country = ANY(hosts)
                ORDER BY c.covers DESC, c.metres, c.country LIMIT 1),
               (SELECT c.country FROM candidate AS c WHERE c.covers
                ORDER BY c.country LIMIT 1),
               (SELECT c.country FROM candidate AS c ORDER BY c.metres, c.country LIMIT 1),
               ''),
           (SELECT count(*) > 1 OR (count(*) = 1 AND NOT bool_or(covers)) FROM candidate),
           ARRAY(SELECT c.country FROM candidate AS c ORDER BY c.country)
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("geo", "0021_map_changes")]

    operations = [
        migrations.AddField(
            model_name="countryedge",
            name="part_ring",
            field=models.BooleanField(default=False),
        ),
        migrations.RunSQL(COUNTRY_EDGES, EDGES_BEFORE),
        migrations.RunSQL(COUNTRY_NEAR_FUNCTION, COUNTRY_NEAR_BEFORE),
        migrations.RunSQL("ANALYZE geo_countryedge", migrations.RunSQL.noop),
    ]
