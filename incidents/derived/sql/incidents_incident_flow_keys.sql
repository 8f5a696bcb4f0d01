-- Keeps: Rewrites the weapons of incidents whose keyed columns changed, so that their
-- BEFORE trigger copies the new values.
-- Checked by: tests/test_flow_counts.py
CREATE OR REPLACE FUNCTION public.incidents_incident_flow_keys()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
DECLARE
    changed bigint[];
BEGIN
    SELECT array_agg(after.id) INTO changed
        FROM new_incidents AS after JOIN old_incidents AS before ON before.id = after.id
        WHERE (before.country, before.occurred_at, before.mission_id, before.contingent_id,
               before.state, before.releasability, before.kind, before.context,
               before.withdrawn_at IS NULL)
            IS DISTINCT FROM
              (after.country, after.occurred_at, after.mission_id, after.contingent_id,
               after.state, after.releasability, after.kind, after.context,
               after.withdrawn_at IS NULL);
    -- Only when there are items to rewrite: a statement's triggers run even when it
    -- writes no row, and the items' own would revise the incidents again (0015).
    IF changed IS NOT NULL THEN
        UPDATE incidents_weaponitem SET incident_withdrawn = false
        WHERE incident_id = ANY(changed);
    END IF;
    RETURN NULL;
END;
$function$;

CREATE TRIGGER incident_flow_columns AFTER UPDATE ON public.incidents_incident REFERENCING OLD TABLE AS old_incidents NEW TABLE AS new_incidents FOR EACH STATEMENT EXECUTE FUNCTION incidents_incident_flow_keys();
