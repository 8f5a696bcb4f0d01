-- Keeps: The revision of an incident's parts (incidents_incidentpartsrevision) when its
-- ammunition or the people involved are added, changed or deleted.
-- Checked by: tests/test_incident_revision.py
CREATE OR REPLACE FUNCTION public.incidents_incident_part_revision()
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
        SELECT DISTINCT id, 1 FROM (SELECT incident_id FROM new_rows UNION SELECT incident_id FROM old_rows) AS touched(id) ORDER BY id
        ON CONFLICT (incident_id) DO UPDATE SET revision = parts.revision + 1;
    END IF;
    RETURN NULL;
END;
$function$;

CREATE TRIGGER ammunitionitem_deleted_revision AFTER DELETE ON public.incidents_ammunitionitem REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_incident_part_revision();
CREATE TRIGGER ammunitionitem_inserted_revision AFTER INSERT ON public.incidents_ammunitionitem REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_incident_part_revision();
CREATE TRIGGER ammunitionitem_updated_revision AFTER UPDATE ON public.incidents_ammunitionitem REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_incident_part_revision();
CREATE TRIGGER personsinvolved_deleted_revision AFTER DELETE ON public.incidents_personsinvolved REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_incident_part_revision();
CREATE TRIGGER personsinvolved_inserted_revision AFTER INSERT ON public.incidents_personsinvolved REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_incident_part_revision();
CREATE TRIGGER personsinvolved_updated_revision AFTER UPDATE ON public.incidents_personsinvolved REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incidents_incident_part_revision();
