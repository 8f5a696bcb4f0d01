"""Matching serials in SQL: which registry serials and which other seized weapons' serials
a serial may be, and why.

One query shape (MATCH_SQL) for every direction — seized weapons against the registry,
seized weapons against other seizures, registry entries against the seizures, and a
serial asked through the API — each branch of it served by an index of the target's
serials (incidents/registry/models.py, `_serial_indexes`):

- exact: the same normalised serial (score 1.0);
- confusable: the same folded serial, not the same normalised one: characters confused on
  worn metal, 0/O/D/Q, 1/I/L/7, 5/S, 8/B, 2/Z, 6/G (0.9); btree on the folded serial;
- unreadable: `?` (one character) and `*` (any run) on either side, as a LIKE pattern of
  the folded serial (0.8); the GIN trigram index serves the pattern asked, and partial
  indexes of the recorded patterns' first and last three characters the patterns recorded
  (a pattern whose first three characters are readable starts as the serial does);
- one character missing or added (0.7): a target one character shorter is one of the
  source's deletions (btree equality on the folded serial); a target one character longer
  has the source's first or last half (indexes of each half with the length: wherever the
  character was added, one half is untouched), then is within one edit of it
  (`levenshtein_less_equal`, fuzzystrmatch). Trigram similarity found the same candidates
  but read tens of thousands of postings per serial at 1.5 million (120 ms). A different
  character at the same place is NOT a match: the next serial of a batch (AB123456,
  AB123457) is another weapon.

A serial with fewer than FEWEST_READABLE readable characters matches only exactly (and one
with fewer than one more than that never by a missing or added character): short serials
are shared by too many weapons.

The makes must agree: the same manufacturer by the controlled list and its aliases
(incidents/manufacturers.py), or the same spelling; where either make is not known the hit
is kept at 0.8 of its score; two different known makes are no hit.
"""

from dataclasses import dataclass

from django.db import connection, transaction

from incidents.registry.serials import FEWEST_READABLE, folded_sql, key_sql, pattern_sql

READABLE_LENGTH = "length(replace(replace({0}, '?', ''), '*', ''))"

WEAPON_SOURCE = """
    SELECT s.weapon_id AS source_id, s.incident_id AS source_incident, s.component,
           s.serial, s.serial_key, s.serial_folded, s.serial_pattern, s.unreadable,
           w.make AS source_make
    FROM incidents_weaponserial AS s JOIN incidents_weaponitem AS w ON w.id = s.weapon_id
    WHERE s.weapon_id = ANY(%(weapon_ids)s)
"""
ENTRY_SOURCE = """
    SELECT s.entry_id AS source_id, NULL::bigint AS source_incident, s.component,
           s.serial, s.serial_key, s.serial_folded, s.serial_pattern, s.unreadable,
           e.make AS source_make
    FROM incidents_registryserial AS s JOIN incidents_registryentry AS e ON e.id = s.entry_id
    WHERE s.entry_id = ANY(%(entry_ids)s)
"""
ASKED = "%(serial)s::text"
ASKED_SOURCE = f"""
    SELECT NULL::bigint AS source_id, NULL::bigint AS source_incident, '' AS component,
           {ASKED} AS serial, {key_sql(ASKED)} AS serial_key,
           {folded_sql(ASKED)} AS serial_folded, {pattern_sql(ASKED)} AS serial_pattern,
           ({ASKED} ~ '[?*]') AS unreadable, %(make)s::text AS source_make
"""


@dataclass(frozen=True)
class Target:
    serials: str  # the serial table
    owner: str  # its column naming what the serial is of
    owners: str  # that table
    incident: str  # the owner's incident, to leave out matches within one seizure


REGISTRY = Target("incidents_registryserial", "entry_id", "incidents_registryentry", "NULL::bigint")
SEIZURES = Target("incidents_weaponserial", "weapon_id", "incidents_weaponitem", "t.incident_id")

MATCH_SQL = """
WITH source AS MATERIALIZED (
    SELECT source.*, {source_readable} AS readable_length FROM ({source}) AS source
    WHERE source.serial_folded <> ''
),
found AS (
    SELECT source.source_id, source.source_incident, source.component AS source_component,
           source.serial AS source_serial, source.source_make,
           hit.owner_id, hit.component, hit.serial, hit.reason, hit.base
    FROM source
    CROSS JOIN LATERAL (
        SELECT t.{owner} AS owner_id, {target_incident} AS owner_incident, t.component,
               t.serial,
               CASE WHEN t.serial_key = source.serial_key THEN 'exact' ELSE 'confusable' END
                   AS reason,
               CASE WHEN t.serial_key = source.serial_key THEN 1.0 ELSE 0.9 END AS base
        FROM {serials} AS t
        WHERE t.serial_folded = source.serial_folded
          AND (t.serial_key = source.serial_key OR source.readable_length >= {fewest})
        UNION ALL
        SELECT t.{owner}, {target_incident}, t.component, t.serial, 'unreadable', 0.8
        FROM {serials} AS t
        WHERE source.unreadable AND source.readable_length >= {fewest}
          AND NOT t.unreadable AND t.serial_folded LIKE source.serial_pattern
        UNION ALL
        SELECT t.{owner}, {target_incident}, t.component, t.serial, 'unreadable', 0.8
        FROM {serials} AS t
        WHERE t.unreadable AND NOT source.unreadable AND source.readable_length >= {fewest}
          AND (
              left(t.serial_folded, 3) = left(source.serial_folded, 3)
              OR right(t.serial_folded, 3) = right(source.serial_folded, 3)
              OR (t.serial_folded ~ '^.{{0,2}}[?*]' AND t.serial_folded ~ '[?*].{{0,2}}$')
          )
          AND source.serial_folded LIKE t.serial_pattern
          AND {target_readable} >= {fewest}
        UNION ALL
        -- The target one character shorter: one of the source's deletions.
        SELECT t.{owner}, {target_incident}, t.component, t.serial,
               CASE WHEN {missing} THEN 'missing' ELSE 'added' END, 0.7
        FROM {serials} AS t
        WHERE NOT source.unreadable AND source.readable_length > {fewest} + 1
          AND NOT t.unreadable
          AND t.serial_folded = ANY (ARRAY(
              SELECT overlay(source.serial_folded PLACING '' FROM position FOR 1)
              FROM generate_series(1, length(source.serial_folded)) AS position
          ))
        UNION ALL
        -- The target one character longer: the same first or last half (index
        -- {serials}'s first_half and last_half), then within one edit.
        SELECT t.{owner}, {target_incident}, t.component, t.serial,
               CASE WHEN {missing} THEN 'missing' ELSE 'added' END, 0.7
        FROM {serials} AS t
        WHERE NOT source.unreadable AND source.readable_length > {fewest}
          AND NOT t.unreadable
          AND length(t.serial_folded) = source.readable_length + 1
          AND (
              left(t.serial_folded, length(t.serial_folded) / 2)
                  = left(source.serial_folded, (source.readable_length + 1) / 2)
              OR right(t.serial_folded, length(t.serial_folded) / 2)
                  = right(source.serial_folded, (source.readable_length + 1) / 2)
          )
          AND levenshtein_less_equal(t.serial_folded, source.serial_folded, 1) = 1
    ) AS hit
    WHERE {exclude}
),
agreed AS (
    SELECT found.*, owner.make,
           CASE
               WHEN lower(trim(found.source_make)) = '' OR lower(trim(owner.make)) = ''
                   THEN 'unknown'
               WHEN lower(trim(found.source_make)) = lower(trim(owner.make)) THEN 'same'
               WHEN source_alias.manufacturer_id = owner_alias.manufacturer_id THEN 'same'
           END AS make_agreement
    FROM found
    JOIN {owners} AS owner ON owner.id = found.owner_id
    LEFT JOIN incidents_manufactureralias AS source_alias
        ON source_alias.key = lower(trim(found.source_make))
    LEFT JOIN incidents_manufactureralias AS owner_alias
        ON owner_alias.key = lower(trim(owner.make))
)
SELECT DISTINCT ON (source_id, owner_id)
       source_id, owner_id, source_serial, serial, reason, make_agreement,
       round((base * CASE make_agreement WHEN 'same' THEN 1.0 ELSE 0.8 END)::numeric, 2)::float
           AS score
FROM agreed
WHERE make_agreement IS NOT NULL
ORDER BY source_id, owner_id, score DESC, reason
"""

# The columns MATCH_SQL returns, in order.
COLUMNS = (
    "source_id",
    "owner_id",
    "source_serial",
    "serial",
    "reason",
    "make_agreement",
    "score",
)


def match_sql(*, source: str, target: Target, seized_is_source: bool) -> str:
    """The matching query of `source`'s serials against `target`'s. A missing character is
    one that the seized weapon's serial lacks. Seized weapons against seizures: never a
    weapon with itself, nor two weapons of one seizure (its own duplicates)."""
    shorter, longer = ("source", "t") if seized_is_source else ("t", "source")
    exclude = "TRUE"
    if source is WEAPON_SOURCE and target is SEIZURES:
        exclude = (
            "hit.owner_id <> source.source_id AND hit.owner_incident <> source.source_incident"
        )
    return MATCH_SQL.format(
        source=source,
        source_readable=READABLE_LENGTH.format("source.serial_folded"),
        target_readable=READABLE_LENGTH.format("t.serial_folded"),
        serials=target.serials,
        owner=target.owner,
        owners=target.owners,
        target_incident=target.incident,
        fewest=FEWEST_READABLE,
        missing=f"length({shorter}.serial_folded) < length({longer}.serial_folded)",
        exclude=exclude,
    )


@dataclass(frozen=True)
class SerialMatch:
    source_id: int | None
    owner_id: int
    source_serial: str
    serial: str
    reason: str
    make_agreement: str
    score: float


def _run(sql: str, params: dict) -> list[SerialMatch]:
    with transaction.atomic(), connection.cursor() as cursor:
        # Every branch has its index, but the planner cannot see the serial of the lateral
        # row: it gives the trigram and LIKE conditions their default selectivity and
        # chooses a pass over the whole table (7 ms at 20,000 serials, and linear), and a
        # hash join over all the owners. For this statement only (SET LOCAL), passes over a
        # table cost it more than any index path.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(sql, params)
        return [SerialMatch(*row) for row in cursor.fetchall()]


def weapons_against_registry(weapon_ids: list[int]) -> list[SerialMatch]:
    sql = match_sql(source=WEAPON_SOURCE, target=REGISTRY, seized_is_source=True)
    return _run(sql, {"weapon_ids": weapon_ids})


def weapons_against_seizures(weapon_ids: list[int]) -> list[SerialMatch]:
    sql = match_sql(source=WEAPON_SOURCE, target=SEIZURES, seized_is_source=True)
    return _run(sql, {"weapon_ids": weapon_ids})


def entries_against_seizures(entry_ids: list[int]) -> list[SerialMatch]:
    sql = match_sql(source=ENTRY_SOURCE, target=SEIZURES, seized_is_source=False)
    return _run(sql, {"entry_ids": entry_ids})


def serial_against(target: Target, *, serial: str, make: str) -> list[SerialMatch]:
    """A serial asked (the API's search), against the registry or the seizures."""
    sql = match_sql(source=ASKED_SOURCE, target=target, seized_is_source=True)
    return _run(sql, {"serial": serial, "make": make})
