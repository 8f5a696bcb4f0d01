# Written by hand on 2026-11-29: the counts of items per flow (incidents/derived/flow_counts.py),
# the incident's columns copied onto its items that those counts are keyed by, and the
# triggers that keep both right.
#
# A flow analysis at a million items spent more than half its time on its one pass over the
# items. The counts hold the same sums already made (a few hundred thousand rows), and the
# analyses whose filter they can answer read them instead (geo/analyses/kept_flows.py).

import importlib

from django.db import migrations, models

ORIGIN_ROUTE = importlib.import_module("incidents.migrations.0012_weapon_origin_route")

# The incident's columns as the items hold them, computed from scratch: the item trigger
# below applies the same rule to one item; tests compare.
INCIDENT_COLUMNS_SQL = """
SELECT item.id, incident.mission_id AS incident_mission_id,
       incident.contingent_id AS incident_contingent_id, incident.state AS incident_state,
       incident.releasability AS incident_releasability, incident.kind AS incident_kind,
       incident.context AS incident_context,
       incident.withdrawn_at IS NOT NULL AS incident_withdrawn
FROM incidents_weaponitem AS item
JOIN incidents_incident AS incident ON incident.id = item.incident_id
"""

# 0012's function, which also copies the incident's columns that the counts are keyed by.
ITEM_FUNCTION = """
CREATE OR REPLACE FUNCTION incidents_weaponitem_flow_columns() RETURNS trigger
SET enable_seqscan = off AS $$
DECLARE
    latest record;
BEGIN
    SELECT incident.country, incident.occurred_at, incident.mission_id,
           incident.contingent_id, incident.state, incident.releasability, incident.kind,
           incident.context, incident.withdrawn_at IS NOT NULL
    INTO NEW.seized_in, NEW.seized_at, NEW.incident_mission_id, NEW.incident_contingent_id,
         NEW.incident_state, NEW.incident_releasability, NEW.incident_kind,
         NEW.incident_context, NEW.incident_withdrawn
    FROM incidents_incident AS incident
    WHERE incident.id = NEW.incident_id;
    -- Also on INSERT: with the deferred foreign keys, a trace may be written before its item.
    SELECT trace.id, trace.diversion_country, trace.diversion_point, trace.transit_countries
    INTO latest
    FROM incidents_tracerequest AS trace
    WHERE trace.weapon_id = NEW.id
      AND trace.diversion_established AND trace.diversion_country <> ''
    ORDER BY COALESCE(trace.answered_on, '-infinity') DESC, trace.sent_on DESC, trace.id DESC
    LIMIT 1;
    IF FOUND THEN
        NEW.origin_source := 'traced';
        NEW.origin_country := latest.diversion_country;
        NEW.origin_trace_id := latest.id;
        NEW.origin_point := latest.diversion_point;
        NEW.origin_transit := NULLIF(latest.transit_countries, '{}');
    ELSIF NEW.country_of_manufacture <> '' THEN
        NEW.origin_source := 'manufacture';
        NEW.origin_country := NEW.country_of_manufacture;
        NEW.origin_trace_id := NULL;
        NEW.origin_point := NULL;
        NEW.origin_transit := NULL;
    ELSE
        NEW.origin_source := 'unknown';
        NEW.origin_country := '';
        NEW.origin_trace_id := NULL;
        NEW.origin_point := NULL;
        NEW.origin_transit := NULL;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# 0008's trigger on the incidents rewrote an incident's items when its country or date
# changed, one incident at a time. It now does so also when a column the counts are keyed by
# changes, and once per statement: an update of many incidents (a batch verified, a
# mission's records re-released) rewrites all their items in one statement, whose counts
# are then written in one pass, in key order. (Any assignment will do: the item trigger
# recomputes every column. A trigger with transition tables takes no column list, so it
# runs after every update of incidents, and finds the changed ones itself.)
INCIDENT_TRIGGER = """
CREATE FUNCTION incidents_incident_flow_keys() RETURNS trigger
SET enable_seqscan = off AS $$
DECLARE
    changed bigint[];
BEGIN
    SELECT array_agg(after.id) INTO changed
        FROM new_incidents AS after JOIN old_incidents AS before ON before.id = after.id
        WHERE (before.country, before.occurred_at, before.mission_id, before.contingent_id,
               before.state, before.releasability, before.kind, before.context,
               before.withdrawn_at IS NULL)
            IS DISTINCT FROM
              (after.country, after.occurred_at, after.mission_id, after.contingent_id,
               after.state, after.releasability, after.kind, after.context,
               after.withdrawn_at IS NULL);
    -- Only when there are items to rewrite: a statement's triggers run even when it
    -- writes no row, and the items' own would revise the incidents again (0015).
    IF changed IS NOT NULL THEN
        UPDATE incidents_weaponitem SET incident_withdrawn = false
        WHERE incident_id = ANY(changed);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER incident_flow_columns ON incidents_incident;
CREATE TRIGGER incident_flow_columns
    AFTER UPDATE ON incidents_incident
    REFERENCING OLD TABLE AS old_incidents NEW TABLE AS new_incidents
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_incident_flow_keys();
"""
PREVIOUS_INCIDENT_TRIGGER = """
DROP TRIGGER incident_flow_columns ON incidents_incident;
DROP FUNCTION incidents_incident_flow_keys();
CREATE TRIGGER incident_flow_columns
    AFTER UPDATE OF country, occurred_at ON incidents_incident
    FOR EACH ROW
    WHEN (OLD.country IS DISTINCT FROM NEW.country
          OR OLD.occurred_at IS DISTINCT FROM NEW.occurred_at)
    EXECUTE FUNCTION incidents_incident_flow_columns();
"""

# Any assignment will do: the item trigger recomputes the columns of every item touched.
FILL_ITEMS = "UPDATE incidents_weaponitem SET incident_withdrawn = false;"

# The key of a row of counts (incidents/derived/flow_counts.py KEY_COLUMNS), and each as an item
# holds it.
KEYS = (
    "mission_id, contingent_id, state, releasability, kind, context, withdrawn, month,"
    " country, category, origin_country, origin_source"
)
ITEM_KEYS = (
    "incident_mission_id, incident_contingent_id, incident_state, incident_releasability,"
    " incident_kind, incident_context, incident_withdrawn, seized_month, seized_in,"
    " category, origin_country, origin_source"
)

# The counts computed from scratch; the triggers below keep them so, and tests compare.
COUNTS_SQL = f"""
SELECT {ITEM_KEYS}, sum(quantity)::bigint AS items, count(*)::integer AS records
FROM incidents_weaponitem
GROUP BY {ITEM_KEYS}
"""  # noqa: S608 (our own constants)
FILL_COUNTS = f"INSERT INTO incidents_weaponflowcount ({KEYS}, items, records) {COUNTS_SQL};"

# What one statement changed: its new item rows counted in, its old ones counted out.
COUNTED_IN = f"SELECT {ITEM_KEYS}, quantity::bigint, 1 FROM new_items"
COUNTED_OUT = f"SELECT {ITEM_KEYS}, -quantity::bigint, -1 FROM old_items"


def _apply(change: str) -> str:
    """The statements that add `change` (rows of the item keys, items, records) to the
    counts: summed per key, written in key order (so that concurrent writers take the rows'
    locks in the same order), and the rows that fall to zero deleted."""
    return f"""
        WITH change ({KEYS}, items, records) AS ({change}),
        delta AS (
            SELECT {KEYS}, sum(items) AS items, sum(records) AS records
            FROM change GROUP BY {KEYS}
            HAVING sum(items) <> 0 OR sum(records) <> 0
        ),
        counted AS (
            INSERT INTO incidents_weaponflowcount AS counts ({KEYS}, items, records)
            SELECT {KEYS}, items, records FROM delta ORDER BY {KEYS}
            ON CONFLICT ({KEYS}) DO UPDATE
            SET items = counts.items + EXCLUDED.items,
                records = counts.records + EXCLUDED.records
            RETURNING counts.id, counts.records
        )
        SELECT array_agg(id) INTO emptied FROM counted WHERE records = 0;"""  # noqa: S608


# A statement's transition tables are read once, however many items it wrote: an import of
# a hundred thousand items makes one pass over the counts. (A trigger with transition
# tables serves one event, hence three.)
COUNT_TRIGGERS = f"""
CREATE FUNCTION incidents_weaponitem_flow_counts() RETURNS trigger AS $$
DECLARE
    emptied bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_apply(COUNTED_IN)}
    ELSIF TG_OP = 'DELETE' THEN
        {_apply(COUNTED_OUT)}
    ELSE
        {_apply(f"{COUNTED_IN} UNION ALL {COUNTED_OUT}")}
    END IF;
    IF emptied IS NOT NULL THEN
        DELETE FROM incidents_weaponflowcount WHERE id = ANY(emptied);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER weaponitem_inserted_flow_counts
    AFTER INSERT ON incidents_weaponitem
    REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_flow_counts();
CREATE TRIGGER weaponitem_updated_flow_counts
    AFTER UPDATE ON incidents_weaponitem
    REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_flow_counts();
CREATE TRIGGER weaponitem_deleted_flow_counts
    AFTER DELETE ON incidents_weaponitem
    REFERENCING OLD TABLE AS old_items
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_flow_counts();

-- No transition table for a TRUNCATE: no items, no counts. (A DELETE: the counts may be
-- truncated by the same statement, as Django's flush does, and a TRUNCATE would refuse.)
CREATE FUNCTION incidents_weaponitem_truncated_flow_counts() RETURNS trigger AS $$
BEGIN
    DELETE FROM incidents_weaponflowcount;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER weaponitem_truncated_flow_counts
    AFTER TRUNCATE ON incidents_weaponitem
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_truncated_flow_counts();
"""
DROP_COUNT_TRIGGERS = """
DROP TRIGGER weaponitem_truncated_flow_counts ON incidents_weaponitem;
DROP FUNCTION incidents_weaponitem_truncated_flow_counts();
DROP TRIGGER weaponitem_deleted_flow_counts ON incidents_weaponitem;
DROP TRIGGER weaponitem_updated_flow_counts ON incidents_weaponitem;
DROP TRIGGER weaponitem_inserted_flow_counts ON incidents_weaponitem;
DROP FUNCTION incidents_weaponitem_flow_counts();
"""


def _copied_column(name: str, field: models.Field, default=None) -> migrations.AddField:
    """A column filled by FILL_ITEMS right after: a `default` only lets it be added."""
    if default is None:
        return migrations.AddField(model_name="weaponitem", name=name, field=field)
    field.default = default
    return migrations.AddField(
        model_name="weaponitem", name=name, field=field, preserve_default=False
    )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0013_weapon_incident_index"),
    ]

    operations = [
        _copied_column("incident_mission_id", models.IntegerField(editable=False), 0),
        _copied_column("incident_contingent_id", models.IntegerField(editable=False), 0),
        _copied_column("incident_state", models.CharField(editable=False, max_length=12), ""),
        _copied_column(
            "incident_releasability", models.PositiveSmallIntegerField(editable=False), 0
        ),
        _copied_column("incident_kind", models.CharField(editable=False, max_length=30), ""),
        _copied_column("incident_context", models.CharField(editable=False, max_length=20), ""),
        _copied_column("incident_withdrawn", models.BooleanField(default=False, editable=False)),
        migrations.RunSQL(ITEM_FUNCTION, ORIGIN_ROUTE.ITEM_FUNCTION),
        migrations.RunSQL(INCIDENT_TRIGGER, PREVIOUS_INCIDENT_TRIGGER),
        migrations.RunSQL(FILL_ITEMS, migrations.RunSQL.noop),
        migrations.CreateModel(
            name="WeaponFlowCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),  # noqa: E501
                ("mission_id", models.IntegerField()),
                ("contingent_id", models.IntegerField()),
                ("state", models.CharField(max_length=12)),
                ("releasability", models.PositiveSmallIntegerField()),
                ("kind", models.CharField(max_length=30)),
                ("context", models.CharField(max_length=20)),
                ("withdrawn", models.BooleanField()),
                ("month", models.IntegerField()),
                ("country", models.CharField(blank=True, max_length=3)),
                ("category", models.CharField(max_length=30)),
                ("origin_country", models.CharField(blank=True, max_length=3)),
                ("origin_source", models.CharField(max_length=12)),
                ("items", models.BigIntegerField()),
                ("records", models.IntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
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
                            "origin_country",
                            "origin_source",
                        ),
                        name="weaponflowcount_key",
                    )
                ],
            },
        ),
        migrations.RunSQL(FILL_COUNTS, "DELETE FROM incidents_weaponflowcount;"),
        migrations.RunSQL(COUNT_TRIGGERS, DROP_COUNT_TRIGGERS),
    ]
