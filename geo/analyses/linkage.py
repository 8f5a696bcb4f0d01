"""Serial-batch linkage: weapons that left one production batch together and were seized
apart, the trace of a common source of diversion.

How serial numbers are read (in SQL, see LINKAGE_SQL):

- make and model are compared without case and without spaces ("Type 56" = "TYPE56");
- a serial number is upper-cased and its spaces removed, then split at its last run of
  digits into a prefix, a number and a suffix: "AK-47-123456" is prefix "AK-47-", number
  123456, no suffix; "KL12345B" is prefix "KL", number 12345, suffix "B". Letters after the
  digits are kept as a suffix that must match exactly, like the prefix: "12345B" and
  "12346C" never join;
- the number keeps its width: numbers compare as integers only between serials written
  with as many digits, leading zeros included, so "A00123" and "A00150" join (27 apart)
  while "A00123" and "A123" (another marking scheme) never do.

Items of the same make, model, prefix, suffix and width are sorted by number; an item
whose number lies within `max_serial_gap` of the one before it continues its batch,
otherwise it starts a new one (gaps and islands, with window functions). A batch is
reported when it has at least `min_items` items seized in more than one incident, and those
were seized by different contingents or in places more than `min_distance_km` apart
(geodesic distance between the incidents' locations as the reader sees them: generalised
locations give generalised distances).

Items that cannot be linked are counted, by reason, and left out: no serial number; altered
or obliterated markings whose serial was not fully read (it holds characters other than
letters, digits, ".", "/" and "-", such as "?" or "*" for illegible ones); no make; no digits
in the serial; a number of fewer than `min_serial_digits` digits.
"""

import json
from dataclasses import dataclass

from django.db import connections, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from geo.analyses.errors import AnalysisError
from geo.analyses.source import Progress, chosen_incidents_sql

UNLINKABLE_REASONS = ("no_serial", "altered_unreadable", "no_make", "no_number", "short_number")


@dataclass(frozen=True)
class LinkageParameters:
    """`max_serial_gap`: the largest step between consecutive numbers of one batch (0: only
    identical numbers). `min_items`: the fewest items a reported batch has.
    `min_distance_km`: items of one contingent count as seized in different places only
    when two of their incidents are more than this apart. `min_serial_digits`: shorter
    numbers ("1", "12") are too common to link anything. `max_batches`: the largest batches
    listed (the result says how many there were in all)."""

    max_serial_gap: int = 50
    min_items: int = 2
    min_distance_km: float = 0.0
    min_serial_digits: int = 3
    max_batches: int = 500

    def __post_init__(self):
        for name, lowest in (
            ("max_serial_gap", 0),
            ("min_items", 2),
            ("min_distance_km", 0),
            ("min_serial_digits", 1),
            ("max_batches", 1),
        ):
            if getattr(self, name) < lowest:
                raise ValueError(f"{name}: at least {lowest}.")


LINKAGE_SQL = r"""
WITH chosen AS ({chosen}),
item AS MATERIALIZED (
    SELECT weapon.id AS weapon_id, weapon.incident_id, weapon.serial_number, weapon.make,
           weapon.model, chosen.external_reference, chosen.country, chosen.contingent_id,
           chosen.occurred_at, chosen.shown_location,
           lower(regexp_replace(weapon.make, '\s+', '', 'g')) AS make_key,
           lower(regexp_replace(weapon.model, '\s+', '', 'g')) AS model_key,
           upper(regexp_replace(weapon.serial_number, '\s+', '', 'g')) AS serial_key,
           weapon.markings_altered
    FROM incidents_weaponitem AS weapon
    JOIN chosen ON chosen.id = weapon.incident_id
),
parsed AS MATERIALIZED (
    SELECT item.*, parts[1] AS prefix, parts[2] AS digits, parts[3] AS suffix,
           CASE WHEN serial_key = '' THEN 'no_serial'
                WHEN markings_altered AND serial_key ~ '[^A-Z0-9./-]'
                    THEN 'altered_unreadable'
                WHEN make_key = '' THEN 'no_make'
                WHEN parts IS NULL THEN 'no_number'
                WHEN length(parts[2]) < %s THEN 'short_number'
           END AS unlinkable
    FROM item
    -- Prefix: empty or ending in a non-digit; number: the last run of digits; suffix: the
    -- non-digits after it. The split is unique, whatever the regex engine's greediness.
    CROSS JOIN LATERAL regexp_match(serial_key, '^(|.*[^0-9])([0-9]+)([^0-9]*)$') AS parts
),
numbered AS (
    SELECT parsed.*, digits::numeric AS number, length(digits) AS width,
           CASE WHEN digits::numeric - lag(digits::numeric) OVER series <= %s
                THEN 0 ELSE 1 END AS starts_batch
    FROM parsed
    WHERE unlinkable IS NULL
    WINDOW series AS (
        PARTITION BY make_key, model_key, prefix, suffix, length(digits)
        ORDER BY digits::numeric, weapon_id
    )
),
island AS MATERIALIZED (
    SELECT numbered.*,
           sum(starts_batch) OVER (
               PARTITION BY make_key, model_key, prefix, suffix, width
               ORDER BY number, weapon_id ROWS UNBOUNDED PRECEDING
           ) AS batch
    FROM numbered
),
candidate AS (
    SELECT make_key, model_key, prefix, suffix, width, batch,
           count(*) AS item_count, min(number) AS first_number,
           count(DISTINCT contingent_id) AS contingents
    FROM island
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING count(*) >= %s AND count(DISTINCT incident_id) > 1
),
place AS MATERIALIZED (
    -- The distinct seizure places of each candidate batch.
    SELECT DISTINCT island.make_key, island.model_key, island.prefix, island.suffix,
           island.width, island.batch, island.shown_location AS place
    FROM island JOIN candidate USING (make_key, model_key, prefix, suffix, width, batch)
),
spread AS (
    -- The greatest distance between two places of a batch (pairs within one batch only:
    -- quadratic in its places, which are few).
    SELECT one.make_key, one.model_key, one.prefix, one.suffix, one.width, one.batch,
           max(ST_Distance(one.place::geography, other.place::geography)) AS metres
    FROM place AS one
    JOIN place AS other USING (make_key, model_key, prefix, suffix, width, batch)
    WHERE one.place::text < other.place::text
    GROUP BY 1, 2, 3, 4, 5, 6
),
reported AS (
    SELECT candidate.*, COALESCE(spread.metres, 0) AS spread_m
    FROM candidate
    LEFT JOIN spread USING (make_key, model_key, prefix, suffix, width, batch)
    WHERE candidate.contingents > 1 OR COALESCE(spread.metres, 0) > %s
),
listed AS (
    -- The largest batches, the only ones whose items are listed.
    SELECT * FROM reported
    ORDER BY item_count DESC, make_key, model_key, prefix, first_number, suffix, width
    LIMIT %s
),
batch AS (
    SELECT
        mode() WITHIN GROUP (ORDER BY island.make) AS make,
        mode() WITHIN GROUP (ORDER BY island.model) AS model,
        listed.make_key, listed.model_key, listed.prefix, listed.suffix,
        listed.item_count, listed.first_number,
        (array_agg(island.serial_number ORDER BY island.number, island.weapon_id))[1]
            AS first_serial,
        (array_agg(island.serial_number ORDER BY island.number DESC, island.weapon_id DESC))[1]
            AS last_serial,
        array_agg(DISTINCT island.incident_id ORDER BY island.incident_id) AS incidents,
        array_agg(DISTINCT island.contingent_id ORDER BY island.contingent_id) AS contingents,
        array_remove(array_agg(DISTINCT NULLIF(island.country, '') ORDER BY
            NULLIF(island.country, '')), NULL) AS countries,
        min(island.occurred_at) AS first_seized, max(island.occurred_at) AS last_seized,
        round((max(listed.spread_m) / 1000)::numeric, 1) AS spread_km,
        json_agg(json_build_object(
            'weapon_id', island.weapon_id, 'incident_id', island.incident_id,
            'external_reference', island.external_reference,
            'serial_number', island.serial_number, 'country', island.country,
            'contingent_id', island.contingent_id, 'occurred_at', island.occurred_at
        ) ORDER BY island.number, island.weapon_id) AS item_list
    FROM listed
    JOIN island USING (make_key, model_key, prefix, suffix, width, batch)
    GROUP BY listed.make_key, listed.model_key, listed.prefix, listed.suffix, listed.width,
             listed.batch, listed.item_count, listed.first_number
)
SELECT json_build_object(
    'items_read', (SELECT count(*) FROM parsed),
    'linkable_items', (SELECT count(*) FROM parsed WHERE unlinkable IS NULL),
    'not_linkable', (
        SELECT json_build_object(
            'total', count(*),
            'no_serial', count(*) FILTER (WHERE unlinkable = 'no_serial'),
            'altered_unreadable', count(*) FILTER (WHERE unlinkable = 'altered_unreadable'),
            'no_make', count(*) FILTER (WHERE unlinkable = 'no_make'),
            'no_number', count(*) FILTER (WHERE unlinkable = 'no_number'),
            'short_number', count(*) FILTER (WHERE unlinkable = 'short_number')
        ) FROM parsed WHERE unlinkable IS NOT NULL
    ),
    'batches_found', (SELECT count(*) FROM reported),
    'batches', (
        SELECT COALESCE(json_agg(json_build_object(
            'make', make, 'model', model, 'prefix', prefix, 'suffix', suffix,
            'first_serial', first_serial, 'last_serial', last_serial,
            'item_count', item_count,
            'incidents', incidents, 'contingents', contingents, 'countries', countries,
            'first_seized', first_seized, 'last_seized', last_seized,
            'spread_km', spread_km, 'items', item_list
        ) ORDER BY item_count DESC, make_key, model_key, prefix, first_number, suffix),
        '[]'::json)
        FROM batch
    )
)::text
"""


def analyse(incidents: QuerySet, parameters: LinkageParameters, progress: Progress) -> dict:
    """Production batches of weapons seized apart (see the module's doc)."""
    chosen_sql, chosen_params = chosen_incidents_sql(
        incidents, "occurred_at", "country", "contingent_id", "external_reference"
    )
    progress(5)
    sql = LINKAGE_SQL.format(chosen=chosen_sql)
    values = (
        *chosen_params,
        parameters.min_serial_digits,
        parameters.max_serial_gap,
        parameters.min_items,
        parameters.min_distance_km * 1000,
        parameters.max_batches,
    )
    with (
        transaction.atomic(using=incidents.db),
        connections[incidents.db].cursor() as cursor,
    ):
        cursor.execute("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off")
        cursor.execute(sql, values)
        result = json.loads(cursor.fetchone()[0])
    if result["items_read"] == 0:
        raise AnalysisError(_("No weapon items match the filter."))
    progress(100)
    return {
        "parameters": {
            "max_serial_gap": parameters.max_serial_gap,
            "min_items": parameters.min_items,
            "min_distance_km": parameters.min_distance_km,
            "min_serial_digits": parameters.min_serial_digits,
            "max_batches": parameters.max_batches,
        },
        "truncated": result["batches_found"] > len(result["batches"]),
        **result,
    }
