"""Counts of incidents per map grid cell, kept by the database for the analyst's map.

A map viewport at a low zoom covers a whole mission: counting a million incidents one by
one takes seconds, far too slow for panning. This table holds, for each grid level (one
per web-map zoom from MIN_LEVEL to MAX_LEVEL), the number of non-withdrawn incidents per
cell and per combination of the columns that filters and the access policy test
(mission, contingent, state, releasability, country, kind, context, month; see the
grains below), with the sums of their coordinates (for the cell's mean position). Each
incident is counted twice per level: once at its exact location (`generalised` false) and
once at its generalised one (snapped to GENERALISED_CELL_DEGREES), so that readers of
generalised locations get counts built on the location they may see.

Kept in two steps, so that a write pays for a row in a log and not for a hundred upserts
(issue 24: inserting 20,000 incidents beside 100,000 took 14.7 s with per-statement
upserts into every cell, 0.50 s with no trigger and 0.55 s with the log; figures at a
million: bench/derived_benchmark.py, docs/development/benchmarks.md):

1. Statement-level triggers on incidents_incident and incidents_weaponitem write each
   change of what the map counts to `IncidentMapChange`, one row per incident and sign, on
   every write path (incidents/derived/sql/, listed in incidents/derived/database.py).
2. `geo_map_changes_merge()` folds the log into the cells, set-based, a batch at a time: a
   Celery beat task runs it every MAP_MERGE_INTERVAL seconds, and an import asks for it once
   its rows are in (incidents/derived/merging.py).

Readers never wait for the merge: the map reads the cells and the changes not merged yet in
one statement (geo/map/layers.py), both tables with the incident's column names so that the
access policy's conditions (organisations/access.py) apply to them unchanged.

Not every grain is kept at every level: KEPT_UP_TO gives the finest level of each. Below it
a grain compresses (many incidents per row); beyond it, it holds about a row per incident,
so the viewport is read from the incidents themselves at the same cost, and the table
stays a fraction of the incidents' size.
"""

from datetime import date

from django.db import models

MIN_LEVEL = 2
MAX_LEVEL = 10

# Each cell's counts are kept at four grains, so that a viewport reads as few rows as its
# filter allows (at fine levels the full grain has about as many rows as incidents): by
# month, kind and context; by kind and context (all months); by month (all kinds and
# contexts); and neither. The columns a grain sums over hold MONTH_ANY or ANY.
GRAIN_NONE, GRAIN_MONTH, GRAIN_KIND_CONTEXT, GRAIN_FULL = 0, 1, 2, 3
MONTH_ANY = date(1, 1, 1)
ANY = ""
# Two more grains answer the weapon-category filter: per set of categories the incident's
# weapons fall in (`categories`, a bit mask: bit i for CATEGORY_BITS[i]), all months or by
# month, kinds and contexts summed over. An incident counts once in its one set, so
# "category in (A, B)" sums the rows whose set meets {A, B}: each incident once however many
# of its weapons match. Incidents without weapons are not kept at these grains (no category
# filter can match them); the other grains hold `categories` 0.
GRAIN_CATEGORIES, GRAIN_CATEGORIES_MONTH = 4, 5
# The bit of each category (incidents.choices.WeaponCategory). Append only: the triggers
# hold this very list (geo 0009, made longer by 0017), and a new category needs a migration
# that gives the triggers the longer list (tests check that every category has its bit).
CATEGORY_BITS = (
    "revolver_pistol",
    "rifle_carbine",
    "assault_rifle",
    "smg",
    "lmg",
    "hmg",
    "grenade_launcher",
    "anti_tank_gun",
    "recoilless_rifle",
    "anti_tank_launcher",
    "manpads",
    "mortar",
    "craft_produced",
    "anti_aircraft_gun",
    "shotgun",
    "part_component",
    "other",
)


# The finest level at which each grain is kept (geo_map_changes_merge() holds the same
# numbers; tests/test_map_data.py checks that they agree).
KEPT_UP_TO = {
    GRAIN_NONE: MAX_LEVEL,
    GRAIN_MONTH: 7,
    GRAIN_KIND_CONTEXT: 8,
    GRAIN_FULL: 4,
    GRAIN_CATEGORIES: 8,
    GRAIN_CATEGORIES_MONTH: 4,
}


def categories_mask(categories: list[str]) -> int:
    """The bit mask of `categories` (codes of WeaponCategory), as the kept counts hold it."""
    return sum(1 << CATEGORY_BITS.index(category) for category in set(categories))


class IncidentMapCell(models.Model):
    # The key is the primary key itself, in this order: one index serves every grain
    # (equality on level, location kind and grain, then the kinds asked for (or ANY), the
    # months (a range, or MONTH_ANY), then the viewport's rows and columns; the set of
    # categories last: a mask test, which no index range serves). No surrogate id: it
    # would cost a column and a second index on every row.
    pk = models.CompositePrimaryKey(
        "level",
        "generalised",
        "grain",
        "kind",
        "month",
        "row_index",
        "column_index",
        "context",
        "mission_id",
        "contingent_id",
        "state",
        "releasability",
        "country",
        "categories",
    )
    level = models.PositiveSmallIntegerField()
    generalised = models.BooleanField()
    grain = models.PositiveSmallIntegerField(default=GRAIN_FULL)
    column_index = models.IntegerField()
    row_index = models.IntegerField()
    month = models.DateField()
    mission_id = models.IntegerField()
    contingent_id = models.IntegerField()
    state = models.CharField(max_length=12)
    releasability = models.PositiveSmallIntegerField()
    country = models.CharField(max_length=3)
    kind = models.CharField(max_length=30)
    context = models.CharField(max_length=20)
    categories = models.IntegerField(default=0)
    incidents = models.IntegerField()
    sum_x = models.FloatField()
    sum_y = models.FloatField()

    class Meta:
        # Geo's table since it began (geo_incidentmapcell, migrations geo 0005-0022): the
        # class lives with the rest of the derived data, the table stays geo's.
        app_label = "geo"

    def __str__(self) -> str:
        return f"level {self.level} cell ({self.column_index}, {self.row_index}): {self.incidents}"


class IncidentMapChange(models.Model):
    """One incident's change of what the map counts, not yet merged into IncidentMapCell:
    `sign` +1 for what it now counts, -1 for what it counted before (a move is both).

    Rows with `counts_incident` come from writes to the incident and count at every grain
    (at the category grains when `categories` is not 0); the others come from writes to its
    weapons, which change only its set of categories, and count at the category grains
    alone. Written by the triggers, deleted by the merge."""

    id = models.BigAutoField(primary_key=True)
    sign = models.SmallIntegerField()
    counts_incident = models.BooleanField()
    x = models.FloatField()
    y = models.FloatField()
    # The location generalised as readers without exact coordinates see it.
    generalised_x = models.FloatField()
    generalised_y = models.FloatField()
    month = models.DateField()
    mission_id = models.IntegerField()
    contingent_id = models.IntegerField()
    state = models.CharField(max_length=12)
    releasability = models.PositiveSmallIntegerField()
    country = models.CharField(max_length=3)
    kind = models.CharField(max_length=30)
    context = models.CharField(max_length=20)
    categories = models.IntegerField()

    class Meta:
        app_label = "geo"

    def __str__(self) -> str:
        return f"change {self.sign:+d} in mission {self.mission_id}, {self.month:%Y-%m}"
