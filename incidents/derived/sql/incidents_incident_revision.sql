-- Keeps: The incident's own revision, raised by every update (the ETag and the edit
-- conflict check).
-- Checked by: tests/test_incident_revision.py
CREATE OR REPLACE FUNCTION public.incidents_incident_revision()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END;
$function$;

CREATE TRIGGER incident_revision BEFORE UPDATE ON public.incidents_incident FOR EACH ROW EXECUTE FUNCTION incidents_incident_revision();
