-- Keeps: Refuses to rewrite or truncate a custody chain's head or the custody events.
-- Checked by: tests/test_custody_integrity.py
CREATE OR REPLACE FUNCTION public.incidents_refuse_rewrite()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$function$;

CREATE TRIGGER custody_heads_append_only BEFORE DELETE OR UPDATE ON public.incidents_custodychainhead FOR EACH ROW EXECUTE FUNCTION incidents_refuse_rewrite();
CREATE TRIGGER custody_heads_no_truncate BEFORE TRUNCATE ON public.incidents_custodychainhead FOR EACH STATEMENT EXECUTE FUNCTION incidents_refuse_rewrite();
CREATE TRIGGER custody_no_truncate BEFORE TRUNCATE ON public.incidents_custodyevent FOR EACH STATEMENT EXECUTE FUNCTION incidents_refuse_rewrite();
