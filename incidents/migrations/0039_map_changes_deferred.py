# Written by hand on 2026-12-05 (issue 24, storage and write cost of the map's kept counts):
# the triggers now log each change (geo_incidentmapchange) instead of upserting every cell
# of every grain and level, geo_map_changes_merge() folds the log into the cells, and the
# grains are kept only up to the level at which they still compress (KEPT_UP_TO in
# incidents/derived/map_cells.py). The cells are made again from the incidents under the
# new rule.

from django.db import migrations

from incidents.derived.operations import InstallDatabaseCode


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0022_countryedge_part_ring"),
        ("incidents", "0038_registry_serial_indexes"),
    ]

    operations = [
        InstallDatabaseCode(fingerprint="ca11f79f7640f899"),
        # Going back, the earlier triggers are installed again by their migration's own
        # reverse SQL only in part: rebuild the cells from scratch after migrating back.
        migrations.RunSQL("SELECT geo_map_cells_rebuild()", reverse_sql=migrations.RunSQL.noop),
    ]
