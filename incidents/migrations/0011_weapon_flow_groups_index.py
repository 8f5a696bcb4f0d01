# The flows' pass over the items reads, for each item of the chosen incidents, only its
# flow columns and quantity. With all of them in an index ordered by incident, that pass is
# an index-only scan merged with the chosen incidents in id order: no hash table of the
# incidents to build and probe a million times, and a third of the pages of the table to
# read. (Index-only while autovacuum keeps the table's pages all-visible; the flows look.)

from django.db import migrations

CREATE = """
CREATE INDEX weaponitem_flow_groups ON incidents_weaponitem (incident_id)
    INCLUDE (origin_country, origin_source, seized_in, category, seized_month, quantity);
"""
DROP = "DROP INDEX weaponitem_flow_groups;"


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0010_weapon_seized_month"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
