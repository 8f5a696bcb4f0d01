# Issue 24: the map's kept counts are kept through a log of changes
# (IncidentMapChange, incidents/derived/map_cells.py) that geo_map_changes_merge() folds
# into the cells, and the cells are keyed by their own columns, with no surrogate id.
# The cells are made again from the incidents by incidents 0037, so the table is
# recreated rather than altered.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0020_region_kinds"),
    ]

    operations = [
        migrations.CreateModel(
            name="IncidentMapChange",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("sign", models.SmallIntegerField()),
                ("counts_incident", models.BooleanField()),
                ("x", models.FloatField()),
                ("y", models.FloatField()),
                ("generalised_x", models.FloatField()),
                ("generalised_y", models.FloatField()),
                ("month", models.DateField()),
                ("mission_id", models.IntegerField()),
                ("contingent_id", models.IntegerField()),
                ("state", models.CharField(max_length=12)),
                ("releasability", models.PositiveSmallIntegerField()),
                ("country", models.CharField(max_length=3)),
                ("kind", models.CharField(max_length=30)),
                ("context", models.CharField(max_length=20)),
                ("categories", models.IntegerField()),
            ],
        ),
        migrations.DeleteModel(name="IncidentMapCell"),
        migrations.CreateModel(
            name="IncidentMapCell",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
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
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("generalised", models.BooleanField()),
                ("grain", models.PositiveSmallIntegerField(default=3)),
                ("column_index", models.IntegerField()),
                ("row_index", models.IntegerField()),
                ("month", models.DateField()),
                ("mission_id", models.IntegerField()),
                ("contingent_id", models.IntegerField()),
                ("state", models.CharField(max_length=12)),
                ("releasability", models.PositiveSmallIntegerField()),
                ("country", models.CharField(max_length=3)),
                ("kind", models.CharField(max_length=30)),
                ("context", models.CharField(max_length=20)),
                ("categories", models.IntegerField(default=0)),
                ("incidents", models.IntegerField()),
                ("sum_x", models.FloatField()),
                ("sum_y", models.FloatField()),
            ],
        ),
        # A merge updates counts in place, and no index holds a count: with room left on
        # each page (a tenth: a few new versions of its rows) the updates are HOT (no new
        # index entries, dead versions pruned on the page), so the table does not swell
        # with every merge.
        migrations.RunSQL(
            "ALTER TABLE geo_incidentmapcell SET (fillfactor = 90)",
            reverse_sql=migrations.RunSQL.noop,
        ),
        # The log is written and emptied all day: vacuumed after every 10,000 dead rows,
        # whatever its size (the merge also truncates it when it is empty and free).
        migrations.RunSQL(
            "ALTER TABLE geo_incidentmapchange SET (autovacuum_vacuum_threshold = 10000,"
            " autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000,"
            " autovacuum_vacuum_insert_scale_factor = 0)",
            reverse_sql=migrations.RunSQL.noop,
        ),
        # Going back: the triggers that log into geo_incidentmapchange go before the table
        # does (the functions of incidents/derived/sql/ are installed by incidents
        # migrations, which do nothing backwards), so that incidents written in an earlier
        # state of the schema find no trigger naming a table that is gone; the map's counts
        # are not kept in those earlier states.
        migrations.RunSQL(
            migrations.RunSQL.noop,
            reverse_sql=(
                "DROP TRIGGER IF EXISTS geo_map_cells_insert ON incidents_incident;"
                " DROP TRIGGER IF EXISTS geo_map_cells_update ON incidents_incident;"
                " DROP TRIGGER IF EXISTS geo_map_cells_delete ON incidents_incident;"
                " DROP TRIGGER IF EXISTS geo_map_cells_weapons_insert ON incidents_weaponitem;"
                " DROP TRIGGER IF EXISTS geo_map_cells_weapons_update ON incidents_weaponitem;"
                " DROP TRIGGER IF EXISTS geo_map_cells_weapons_delete ON incidents_weaponitem;"
            ),
        ),
    ]
