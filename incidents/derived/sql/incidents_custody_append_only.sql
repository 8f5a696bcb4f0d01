-- Keeps: Refuses to update or delete a custody event: the chain of custody is append-only.
-- Checked by: tests/test_custody_integrity.py
CREATE OR REPLACE FUNCTION public.incidents_custody_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'custody events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$function$;

CREATE TRIGGER custody_append_only BEFORE DELETE OR UPDATE ON public.incidents_custodyevent FOR EACH ROW EXECUTE FUNCTION incidents_custody_append_only();
