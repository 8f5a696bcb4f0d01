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

Never written from Python: statement-level triggers on incidents_incident and on
incidents_weaponitem keep it right on every write path (incidents/derived/sql/, listed in
incidents/derived/database.py), and its columns carry the incident's names so that the
access policy's conditions (organisations/access.py) apply to it unchanged.
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


def categories_mask(categories: list[str]) -> int:
    """The bit mask of `categories` (codes of WeaponCategory), as the kept counts hold it."""
    return sum(1 << CATEGORY_BITS.index(category) for category in set(categories))


class IncidentMapCell(models.Model):
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
        # Geo's table since it began (geo_incidentmapcell, migrations geo 0005-0017): the
        # class lives with the rest of the derived data, the table and its history stay.
        app_label = "geo"
        constraints = [
            models.UniqueConstraint(
                # In this order, one index serves every grain: equality on level,
                # location kind and grain, then the kinds asked for (or ANY), the months
                # (a range, or MONTH_ANY), then the viewport's rows and columns; the set of
                # categories last (a mask test: no index range serves it).
                fields=[
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
                ],
                name="incidentmapcell_key",
            )
        ]
        indexes = [
            # The category grains read without visiting the table: geo 0011.
            models.Index(
                condition=models.Q(grain__gte=4),
                fields=["level", "generalised", "grain", "month", "row_index", "column_index"],
                include=(
                    "id",
                    "categories",
                    "mission_id",
                    "contingent_id",
                    "state",
                    "releasability",
                    "country",
                    "incidents",
                    "sum_x",
                    "sum_y",
                ),
                name="incidentmapcell_categories",
            )
        ]

    def __str__(self) -> str:
        return f"level {self.level} cell ({self.column_index}, {self.row_index}): {self.incidents}"
