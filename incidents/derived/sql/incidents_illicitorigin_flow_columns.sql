-- Keeps: Rewrites the weapons whose illicit origin record was added, changed or deleted,
-- so that their established origin follows.
-- Checked by: tests/test_analysis_flows.py
CREATE OR REPLACE FUNCTION public.incidents_illicitorigin_flow_columns()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE incidents_weaponitem SET origin_trace_id = NULL
        WHERE id IN (SELECT weapon_id FROM new_origins);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE incidents_weaponitem SET origin_trace_id = NULL
        WHERE id IN (SELECT weapon_id FROM old_origins);
    ELSE
        UPDATE incidents_weaponitem SET origin_trace_id = NULL
        WHERE id IN (SELECT weapon_id FROM old_origins
                     UNION SELECT weapon_id FROM new_origins);
    END IF;
    RETURN NULL;
END;
$function$;

CREATE TRIGGER illicitorigin_deleted_flow_columns AFTER DELETE ON public.incidents_illicitorigin REFERENCING OLD TABLE AS old_origins FOR EACH STATEMENT EXECUTE FUNCTION incidents_illicitorigin_flow_columns();
CREATE TRIGGER illicitorigin_inserted_flow_columns AFTER INSERT ON public.incidents_illicitorigin REFERENCING NEW TABLE AS new_origins FOR EACH STATEMENT EXECUTE FUNCTION incidents_illicitorigin_flow_columns();
CREATE TRIGGER illicitorigin_updated_flow_columns AFTER UPDATE ON public.incidents_illicitorigin REFERENCING OLD TABLE AS old_origins NEW TABLE AS new_origins FOR EACH STATEMENT EXECUTE FUNCTION incidents_illicitorigin_flow_columns();
