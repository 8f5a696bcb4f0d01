from django.db import migrations

# The chain of custody is evidence: once written, an event is never changed or removed.
# The hash chain makes tampering visible; this trigger makes it impossible through the
# application's database role.
APPEND_ONLY = """
CREATE FUNCTION incidents_custody_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'custody events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER custody_append_only
    BEFORE UPDATE OR DELETE ON incidents_custodyevent
    FOR EACH ROW EXECUTE FUNCTION incidents_custody_append_only();
"""

REVERSE = """
DROP TRIGGER custody_append_only ON incidents_custodyevent;
DROP FUNCTION incidents_custody_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_records_complete")]
    operations = [migrations.RunSQL(APPEND_ONLY, REVERSE)]
