-- Keeps: Rewrites the weapons of traces that establish (or established) a diversion, so
-- that their established origin follows.
-- Checked by: tests/test_analysis_flows.py
CREATE OR REPLACE FUNCTION public.incidents_tracerequest_flow_columns()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
BEGIN
    -- Any assignment will do: the BEFORE trigger on the items recomputes the origin.
    IF TG_OP = 'INSERT' THEN
        UPDATE incidents_weaponitem SET origin_trace_id = NULL
        WHERE id IN (SELECT weapon_id FROM new_traces
                     WHERE diversion_established AND diversion_country <> '');
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE incidents_weaponitem SET origin_trace_id = NULL
        WHERE id IN (SELECT weapon_id FROM old_traces
                     WHERE diversion_established AND diversion_country <> '');
    ELSE
        UPDATE incidents_weaponitem SET origin_trace_id = NULL
        WHERE id IN (SELECT weapon_id FROM old_traces
                     WHERE diversion_established AND diversion_country <> ''
                     UNION
                     SELECT weapon_id FROM new_traces
                     WHERE diversion_established AND diversion_country <> '');
    END IF;
    RETURN NULL;
END;
$function$;

CREATE TRIGGER tracerequest_deleted_flow_columns AFTER DELETE ON public.incidents_tracerequest REFERENCING OLD TABLE AS old_traces FOR EACH STATEMENT EXECUTE FUNCTION incidents_tracerequest_flow_columns();
CREATE TRIGGER tracerequest_inserted_flow_columns AFTER INSERT ON public.incidents_tracerequest REFERENCING NEW TABLE AS new_traces FOR EACH STATEMENT EXECUTE FUNCTION incidents_tracerequest_flow_columns();
CREATE TRIGGER tracerequest_updated_flow_columns AFTER UPDATE ON public.incidents_tracerequest REFERENCING OLD TABLE AS old_traces NEW TABLE AS new_traces FOR EACH STATEMENT EXECUTE FUNCTION incidents_tracerequest_flow_columns();
