"""Seeded incidents that benchmarks keep between runs: a mission and contingent of their own
holding many verified, exactly located incidents over the Central African Republic.

Made once (`incidents_seed`), in batches of 100,000 rows that each commit, so an interrupted
seeding goes on where it stopped; removed only by `seed_drop`. Rows are generated as arrays
(numpy) and written with COPY, not built one by one in Python: 70 % around 300 towns of
uneven size, 30 % uniform over the country's bounding box, each with its resolution-8 H3 cell
(incidents.services.h3_cell_of) and a unique external reference, so that the contingent's
unique index (contingent, external_reference) is as full as an imported archive's. The
statement trigger that logs the map's changes (geo_incidentmapchange) runs as for any
insert: 4-5 s per batch of 100,000 here; the log is merged by whoever measures
(incidents.derived.merging). No history rows are written.

Django must be set up before this module is imported.
"""

import io
import time

import numpy as np
from django.db import connection, transaction
from h3.api import basic_int as h3_int

from incidents.services import H3_RESOLUTION
from organisations.models import Contingent, Mission

# The Central African Republic's bounding box: west, east, south, north.
BOUNDING_BOX = (14.4, 27.5, 2.2, 11.0)
KM_PER_DEGREE = 111.32
KINDS = ["checkpoint_seizure", "cordon_search", "cache_discovery", "voluntary_surrender"]
CONTEXTS = ["armed_conflict", "criminal", "intercommunal", "other"]
BATCH = 100_000


def generate_points(
    count: int, *, seed: int = 20260101, towns: int = 300, town_share: float = 0.7
) -> tuple[np.ndarray, np.ndarray]:
    """(longitudes, latitudes): `town_share` around `towns` towns (log-normal sizes, a spread
    of 1.5–10 km), the rest uniform over the bounding box, in random order."""
    rng = np.random.default_rng(seed)
    west, east, south, north = BOUNDING_BOX
    town_longitude = rng.uniform(west + 0.5, east - 0.5, towns)
    town_latitude = rng.uniform(south + 0.4, north - 0.4, towns)
    weight = rng.lognormal(0.0, 1.0, towns)
    weight /= weight.sum()
    spread_km = np.clip(3.0 * np.sqrt(weight * towns), 1.5, 10.0)
    in_towns = rng.binomial(count, town_share)
    town = rng.choice(towns, in_towns, p=weight)
    north_km = rng.normal(0.0, 1.0, in_towns) * spread_km[town]
    east_km = rng.normal(0.0, 1.0, in_towns) * spread_km[town]
    latitude = town_latitude[town] + north_km / KM_PER_DEGREE
    longitude = town_longitude[town] + east_km / (KM_PER_DEGREE * np.cos(np.radians(latitude)))
    longitude = np.concatenate([longitude, rng.uniform(west, east, count - in_towns)])
    latitude = np.concatenate([latitude, rng.uniform(south, north, count - in_towns)])
    order = rng.permutation(count)
    return longitude[order].round(6), latitude[order].round(6)


def seeded_contingent(acronym: str) -> Contingent:
    mission, _ = Mission.objects.get_or_create(
        acronym=acronym, defaults={"name": f"Benchmark mission {acronym} (seeded)"}
    )
    contingent, _ = Contingent.objects.get_or_create(
        mission=mission, name="Seeded", defaults={"contributing_country": "RWA", "kind": "tcc"}
    )
    return contingent


def seeded_count(contingent: Contingent) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM incidents_incident WHERE contingent_id = %s", [contingent.pk]
        )
        return cursor.fetchone()[0]


def incidents_seed(acronym: str, count: int) -> Contingent:
    """The contingent of mission `acronym`, holding at least `count` seeded incidents: adds
    the missing ones, printing progress; returns at once when they are there."""
    contingent = seeded_contingent(acronym)
    present = seeded_count(contingent)
    if present >= count:
        return contingent
    longitude, latitude = generate_points(count)
    print(f"Seeding {count - present:,} incidents into {acronym} (holds {present:,})", flush=True)
    for start in range(present, count, BATCH):
        began = time.perf_counter()
        end = min(start + BATCH, count)
        _copy_batch(contingent, start, longitude[start:end], latitude[start:end])
        print(
            f"  {end:,} incidents seeded ({time.perf_counter() - began:.1f} s for this batch)",
            flush=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
    return contingent


def _copy_batch(contingent: Contingent, first: int, longitude, latitude) -> None:
    rng = np.random.default_rng(first)
    count = len(longitude)
    cells = [
        h3_int.latlng_to_cell(lat, lng, H3_RESOLUTION)
        for lat, lng in zip(latitude.tolist(), longitude.tolist(), strict=True)
    ]
    occurred = np.datetime_as_string(
        np.datetime64("2020-01-01T00:00:00") + rng.integers(0, 6 * 365 * 86400, count), unit="s"
    ).tolist()
    kinds = rng.integers(0, len(KINDS), count).tolist()
    contexts = rng.integers(0, len(CONTEXTS), count).tolist()
    levels = rng.integers(1, 6, count).tolist()
    fixed = (
        "exact\tCAF\t\t\tverified\tf\t2026-01-01T00:00:00+00\t2026-01-01T00:00:00+00\t"
        f"{contingent.pk}\t{contingent.mission_id}\tunknown\tday"
    )
    buffer = io.StringIO()
    buffer.writelines(
        f"{KINDS[kind]}\t{when}+00\tSRID=4326;POINT({lng!r} {lat!r})\t{CONTEXTS[context]}\t"
        f"{level}\t{fixed}\tSEED-{first + n}\t\t\tF\t\t{cell}\n"
        for n, (kind, when, lng, lat, context, level, cell) in enumerate(
            zip(
                kinds,
                occurred,
                longitude.tolist(),
                latitude.tolist(),
                contexts,
                levels,
                cells,
                strict=True,
            )
        )
    )
    buffer.seek(0)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY incidents_incident (kind, occurred_at, location, context, releasability,"
            " location_precision, country, actors, narrative, state, gbv_link, created_at,"
            " updated_at, contingent_id, mission_id, actor_type, date_precision,"
            " external_reference, return_comment, withdrawn_reason, source_reliability,"
            " source, h3_cell) FROM STDIN",
            buffer,
        )


# The generated weapons' categories, most frequent first (a weapon takes the lower of two
# hashed draws: the first categories are the commonest, MANPADS the rarest).
CATEGORIES = [
    "assault_rifle",
    "revolver_pistol",
    "smg",
    "rifle_carbine",
    "lmg",
    "craft_produced",
    "grenade_launcher",
    "mortar",
    "hmg",
    "anti_tank_launcher",
    "recoilless_rifle",
    "anti_tank_gun",
    "manpads",
]
# 0 to 2 weapons per incident (1.25 on average), drawn from a hash of its id: the same
# weapons for the same incidents on every run.
WEAPONS_INSERT = """
INSERT INTO incidents_weaponitem (incident_id, category, make, model, calibre, serial_number,
    markings_altered, country_of_manufacture, quantity, condition, disposition,
    factory_markings, import_markings, other_markings, seized_at, seized_in)
SELECT incident.id,
       (%(categories)s::text[])[1 + least(draw %% 13, (draw / 13) %% 13)],
       '', '', '', '', false, '', 1, 'unknown', 'held', '', '', '',
       incident.occurred_at, incident.country
FROM incidents_incident AS incident
CROSS JOIN LATERAL generate_series(
    1, (ARRAY[0, 1, 1, 1, 1, 2, 2, 2])[1 + (hashint8(incident.id) & 2147483647) %% 8]
) AS item
CROSS JOIN LATERAL (SELECT hashint8(incident.id * 4 + item) & 2147483647 AS draw) AS drawn
WHERE incident.mission_id = %(mission)s
"""


def weapons_seed(mission_id: int) -> int:
    """Give the incidents of the mission their weapons, in one statement; returns how many."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(WEAPONS_INSERT, {"categories": CATEGORIES, "mission": mission_id})
        return cursor.rowcount


def seed_drop(acronym: str) -> None:
    """Delete the seeded mission, its contingent, memberships and incidents, and vacuum the
    table. In SQL, not through the ORM's cascade, which reads every column of the incidents
    that the models declare (and fails on a database one migration behind the code); the
    incidents go in a transaction of their own, so that a failure after it keeps them gone."""
    mission = Mission.objects.filter(acronym=acronym).first()
    if mission is None:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_incident WHERE mission_id = %s", [mission.pk])
    memberships = (
        "SELECT id FROM organisations_membership WHERE mission_id = %(mission)s OR contingent_id"
        " IN (SELECT id FROM organisations_contingent WHERE mission_id = %(mission)s)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in (
            f"DELETE FROM organisations_membership_regions WHERE membership_id IN ({memberships})",
            f"DELETE FROM organisations_membership WHERE id IN ({memberships})",
            "DELETE FROM organisations_contingent WHERE mission_id = %(mission)s",
            "DELETE FROM organisations_mission WHERE id = %(mission)s",
        ):
            cursor.execute(statement, {"mission": mission.pk})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE incidents_incident")
