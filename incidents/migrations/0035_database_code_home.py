# Written by hand on 2026-12-05 (issue 24, "one home"): every function and trigger the
# database runs now lives in incidents/derived/sql/, and this migration installs them from
# there. They are the same definitions the earlier migrations left, so on an existing
# database nothing changes but the one function those migrations left behind.

from django.db import migrations

from incidents.derived.operations import InstallDatabaseCode

# Replaced by incidents_incident_flow_keys() in 0014 and kept since only for 0014's way
# back; no trigger calls it.
LEFT_BEHIND = """
CREATE OR REPLACE FUNCTION public.incidents_incident_flow_columns()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
BEGIN
    UPDATE incidents_weaponitem
    SET seized_in = NEW.country, seized_at = NEW.occurred_at
    WHERE incident_id = NEW.id;
    RETURN NULL;
END;
$function$
"""


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0020_region_kinds"),
        ("incidents", "0034_incident_awaiting_hand"),
        ("organisations", "0005_audit_no_truncate"),
    ]

    operations = [
        migrations.RunSQL(
            "DROP FUNCTION incidents_incident_flow_columns();", reverse_sql=LEFT_BEHIND
        ),
        InstallDatabaseCode(fingerprint="9b9b30539d91c157"),
    ]
