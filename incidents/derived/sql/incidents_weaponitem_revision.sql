-- Keeps: The revision of an incident's parts when its weapons are added, deleted or
-- changed in a recorded field.
-- Checked by: tests/test_incident_revision.py
CREATE OR REPLACE FUNCTION public.incidents_weaponitem_revision()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO incidents_incidentpartsrevision AS parts (incident_id, revision)
        SELECT DISTINCT id, 1 FROM (SELECT incident_id FROM new_rows) AS touched(id) ORDER BY id
        ON CONFLICT (incident_id) DO UPDATE SET revision = parts.revision + 1;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO incidents_incidentpartsrevision AS parts (incident_id, revision)
        SELECT DISTINCT id, 1 FROM (SELECT incident_id FROM old_rows) AS touched(id) ORDER BY id
        ON CONFLICT (incident_id) DO UPDATE SET revision = parts.revision + 1;
    ELSE
        INSERT INTO incidents_incidentpartsrevision AS parts (incident_id, revision)
        SELECT DISTINCT id, 1 FROM (
        SELECT unnest(ARRAY[before.incident_id, after.incident_id])
        FROM old_rows AS before JOIN new_rows AS after ON after.id = before.id
        WHERE (before.incident_id, before.category, before.make, before.model, before.calibre, before.serial_number, before.markings_altered, before.country_of_manufacture, before.year_of_manufacture, before.quantity, before.factory_markings, before.import_markings, before.other_markings, before.condition, before.disposition, before.recovery, before.manufacture_mode) IS DISTINCT FROM (after.incident_id, after.category, after.make, after.model, after.calibre, after.serial_number, after.markings_altered, after.country_of_manufacture, after.year_of_manufacture, after.quantity, after.factory_markings, after.import_markings, after.other_markings, after.condition, after.disposition, after.recovery, after.manufacture_mode)) AS touched(id) ORDER BY id
        ON CONFLICT (incident_id) DO UPDATE SET revision = parts.revision + 1;
    END IF;
    RETURN NULL;
END;
$function$;

CREATE TRIGGER weaponitem_deleted_revision AFTER DELETE ON public.incidents_weaponitem REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_revision();
CREATE TRIGGER weaponitem_inserted_revision AFTER INSERT ON public.incidents_weaponitem REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_revision();
CREATE TRIGGER weaponitem_updated_revision AFTER UPDATE ON public.incidents_weaponitem REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_revision();
