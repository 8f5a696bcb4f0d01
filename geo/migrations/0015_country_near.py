# The country of a point as a mission records it: near a border (within a tolerance), the
# mission's host country wins whenever it is one of the candidates (geo/core/borders.py).
from django.db import migrations

from geo.core.borders import DROP_COUNTRY_NEAR_FUNCTION

# As it ran (geo/core/borders.py holds the function as it is now, geo 0022's).
COUNTRY_NEAR_FUNCTION = """
CREATE FUNCTION geo_country_near(point geometry, hosts text[], tolerance_m float8)
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
    dependencies = [("geo", "0014_analysisrun_attempt_started_at_and_more")]

    operations = [migrations.RunSQL(COUNTRY_NEAR_FUNCTION, DROP_COUNTRY_NEAR_FUNCTION)]
