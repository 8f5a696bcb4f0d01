from django.db import migrations

# The row trigger of 0004 refuses UPDATE and DELETE of audit rows, but TRUNCATE fires no row
# trigger: a statement trigger refuses it too, whoever connects (the owner included, short
# of switching triggers off, which tampering then needs).
NO_TRUNCATE = """
CREATE TRIGGER audit_no_truncate
    BEFORE TRUNCATE ON organisations_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION organisations_audit_append_only();
"""

REVERSE = "DROP TRIGGER audit_no_truncate ON organisations_auditevent;"


class Migration(migrations.Migration):
    dependencies = [("organisations", "0004_audit_event")]
    operations = [migrations.RunSQL(NO_TRUNCATE, REVERSE)]
