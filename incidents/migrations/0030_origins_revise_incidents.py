# Reports and analyses tell a stored result is stale by the incidents' revisions (0015). An
# illicit origin recorded for a weapon (incidents/origins.py), and a weapon's being
# recovered or only observed or its way of manufacture, change what SDG 16.4.2 and the
# IAFQ count, but revised nothing: a report asked again after a late origin was recorded
# came back as the stored one, with the old figures. They revise the weapon's incident now.

from importlib import import_module

from django.db import migrations

revision = import_module("incidents.migrations.0015_incident_revision")

WEAPON_CONTENT = revision.WEAPON_CONTENT + ", recovery, manufacture_mode"


def _weapon_function(content: str) -> str:
    return revision._statement_function(
        "incidents_weaponitem_revision",
        "SELECT incident_id FROM new_rows",
        "SELECT incident_id FROM old_rows",
        revision._changed(content, "incident_id"),
    ).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")


FORWARD = (
    _weapon_function(WEAPON_CONTENT)
    + revision._statement_triggers("illicitorigin", "incidents_weapon_part_revision")
)
BACKWARD = revision._drop_statement_triggers("illicitorigin") + _weapon_function(
    revision.WEAPON_CONTENT
)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0029_seizure_justification_and_route"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
