-- Keeps: Empties incidents_weaponflowcount when the items are truncated.
-- Checked by: tests/test_flow_counts.py
CREATE OR REPLACE FUNCTION public.incidents_weaponitem_truncated_flow_counts()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    DELETE FROM incidents_weaponflowcount;
    RETURN NULL;
END;
$function$;

CREATE TRIGGER weaponitem_truncated_flow_counts AFTER TRUNCATE ON public.incidents_weaponitem FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_truncated_flow_counts();
