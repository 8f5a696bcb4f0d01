-- Keeps: Queues the registry entries whose serials were written for the hit check against the seizures (incidents_hitcheck).
-- Checked by: tests/test_registry_hits.py
CREATE OR REPLACE FUNCTION public.incidents_registryserial_queue()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    INSERT INTO incidents_hitcheck (registry_entry_id, queued_at)
    SELECT DISTINCT entry_id, now() FROM new_serials;
    RETURN NULL;
END;
$function$;

CREATE TRIGGER registryserial_inserted_queue AFTER INSERT ON public.incidents_registryserial REFERENCING NEW TABLE AS new_serials FOR EACH STATEMENT EXECUTE FUNCTION incidents_registryserial_queue();
CREATE TRIGGER registryserial_updated_queue AFTER UPDATE ON public.incidents_registryserial REFERENCING NEW TABLE AS new_serials FOR EACH STATEMENT EXECUTE FUNCTION incidents_registryserial_queue();
