"""Counts of weapon items, kept by the database for the flow analyses' "where made".

A flow analysis groups every item of the chosen incidents by where it was made, where it
was seized, weapon category and period (geo/analyses/flows.py): at a million items, one pass
over them takes about as long as the whole rest of the analysis. This table holds the same
sums already made, per combination of

- the item's country of manufacture (`made_in`), country of seizure (`country`), weapon
  category, month of seizure (`month`, as WeaponItem.seized_month numbers it);
- the incident's columns that the access policy and the incident filters test: mission,
  contingent, workflow state, releasability, kind, context, and whether it is withdrawn,

with `items` (the sum of the items' quantities) and `records` (the number of item records).
A few hundred thousand rows stand for a million items; a flow analysis whose filter tests
only these columns (and whole months) reads them instead of the items
(geo/analyses/kept_flows.py).

Never written from Python: statement-level triggers on the items
(incidents/derived/sql/incidents_weaponitem_flow_counts.sql) add each statement's new rows
and take away its old ones, and every change that matters reaches the items first (the
incident's columns are copied onto its items: incidents_weaponitem_flow_columns.sql and
incidents_incident_flow_keys.sql). A row whose count falls to zero is deleted. The columns
carry the incident's names, so that the access policy's conditions (organisations/access.py)
apply to this table unchanged.
"""

from django.db import models

# The columns that identify a row (all but the sums), as the unique constraint and the
# triggers of incidents 0031 list them.
KEY_COLUMNS = (
    "mission_id",
    "contingent_id",
    "state",
    "releasability",
    "kind",
    "context",
    "withdrawn",
    "month",
    "country",
    "category",
    "made_in",
)


class WeaponFlowCount(models.Model):
    mission_id = models.IntegerField()
    contingent_id = models.IntegerField()
    state = models.CharField(max_length=12)
    releasability = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=30)
    context = models.CharField(max_length=20)
    withdrawn = models.BooleanField()
    month = models.IntegerField()
    country = models.CharField(max_length=3, blank=True)
    category = models.CharField(max_length=30)
    # Where the items were made (WeaponItem.country_of_manufacture): a fact about the
    # weapon, not a movement; established illicit origins are read from the items.
    made_in = models.CharField(max_length=3, blank=True)
    items = models.BigIntegerField()
    records = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=list(KEY_COLUMNS), name="weaponflowcount_key")
        ]

    def __str__(self) -> str:
        return (
            f"made in {self.made_in or 'unknown'}, seized in {self.country or 'unknown'}, "
            f"{self.category}, month {self.month}: {self.items} items"
        )
