-- Keeps: The revision of an incident's parts when a custody event, an illicit origin or a
-- trace of one of its weapons is added, changed or deleted.
-- Checked by: tests/test_incident_revision.py
CREATE OR REPLACE FUNCTION public.incidents_weapon_part_revision()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO incidents_incidentpartsrevision AS parts (incident_id, revision)
        SELECT DISTINCT id, 1 FROM (SELECT incident_id FROM incidents_weaponitem WHERE id IN (SELECT weapon_id FROM new_rows)) AS touched(id) ORDER BY id
        ON CONFLICT (incident_id) DO UPDATE SET revision = parts.revision + 1;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO incidents_incidentpartsrevision AS parts (incident_id, revision)
        SELECT DISTINCT id, 1 FROM (SELECT incident_id FROM incidents_weaponitem WHERE id IN (SELECT weapon_id FROM old_rows)) AS touched(id) ORDER BY id
        ON CONFLICT (incident_id) DO UPDATE SET revision = parts.revision + 1;
    ELSE
        INSERT INTO incidents_incidentpartsrevision AS parts (incident_id, revision)
        SELECT DISTINCT id, 1 FROM (SELECT incident_id FROM incidents_weaponitem WHERE id IN (SELECT weapon_id FROM new_rows UNION SELECT weapon_id FROM old_rows)) AS touched(id) ORDER BY id
        ON CONFLICT (incident_id) DO UPDATE SET revision = parts.revision + 1;
    END IF;
    RETURN NULL;
END;
$function$;

CREATE TRIGGER custodyevent_deleted_revision AFTER DELETE ON public.incidents_custodyevent REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weapon_part_revision();
CREATE TRIGGER custodyevent_inserted_revision AFTER INSERT ON public.incidents_custodyevent REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weapon_part_revision();
CREATE TRIGGER custodyevent_updated_revision AFTER UPDATE ON public.incidents_custodyevent REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weapon_part_revision();
CREATE TRIGGER illicitorigin_deleted_revision AFTER DELETE ON public.incidents_illicitorigin REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weapon_part_revision();
CREATE TRIGGER illicitorigin_inserted_revision AFTER INSERT ON public.incidents_illicitorigin REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weapon_part_revision();
CREATE TRIGGER illicitorigin_updated_revision AFTER UPDATE ON public.incidents_illicitorigin REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weapon_part_revision();
CREATE TRIGGER tracerequest_deleted_revision AFTER DELETE ON public.incidents_tracerequest REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weapon_part_revision();
CREATE TRIGGER tracerequest_inserted_revision AFTER INSERT ON public.incidents_tracerequest REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weapon_part_revision();
CREATE TRIGGER tracerequest_updated_revision AFTER UPDATE ON public.incidents_tracerequest REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_weapon_part_revision();
