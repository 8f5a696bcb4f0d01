-- Keeps: The counts of items per flow (incidents_weaponflowcount): each statement's new
-- items added, its old items taken away, rows at zero deleted.
-- Checked by: tests/test_flow_counts.py
CREATE OR REPLACE FUNCTION public.incidents_weaponitem_flow_counts()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    emptied bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        
        WITH change (mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, items, records) AS (SELECT incident_mission_id, incident_contingent_id, incident_state, incident_releasability, incident_kind, incident_context, incident_withdrawn, seized_month, seized_in, category, country_of_manufacture, quantity::bigint, 1 FROM new_items WHERE recovery = 'recovered'),
        delta AS (
            SELECT mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, sum(items) AS items, sum(records) AS records
            FROM change GROUP BY mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in
            HAVING sum(items) <> 0 OR sum(records) <> 0
        ),
        counted AS (
            INSERT INTO incidents_weaponflowcount AS counts (mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, items, records)
            SELECT mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, items, records FROM delta ORDER BY mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in
            ON CONFLICT (mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in) DO UPDATE
            SET items = counts.items + EXCLUDED.items,
                records = counts.records + EXCLUDED.records
            RETURNING counts.id, counts.records
        )
        SELECT array_agg(id) INTO emptied FROM counted WHERE records = 0;
    ELSIF TG_OP = 'DELETE' THEN
        
        WITH change (mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, items, records) AS (SELECT incident_mission_id, incident_contingent_id, incident_state, incident_releasability, incident_kind, incident_context, incident_withdrawn, seized_month, seized_in, category, country_of_manufacture, -quantity::bigint, -1 FROM old_items WHERE recovery = 'recovered'),
        delta AS (
            SELECT mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, sum(items) AS items, sum(records) AS records
            FROM change GROUP BY mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in
            HAVING sum(items) <> 0 OR sum(records) <> 0
        ),
        counted AS (
            INSERT INTO incidents_weaponflowcount AS counts (mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, items, records)
            SELECT mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, items, records FROM delta ORDER BY mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in
            ON CONFLICT (mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in) DO UPDATE
            SET items = counts.items + EXCLUDED.items,
                records = counts.records + EXCLUDED.records
            RETURNING counts.id, counts.records
        )
        SELECT array_agg(id) INTO emptied FROM counted WHERE records = 0;
    ELSE
        
        WITH change (mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, items, records) AS (SELECT incident_mission_id, incident_contingent_id, incident_state, incident_releasability, incident_kind, incident_context, incident_withdrawn, seized_month, seized_in, category, country_of_manufacture, quantity::bigint, 1 FROM new_items WHERE recovery = 'recovered' UNION ALL SELECT incident_mission_id, incident_contingent_id, incident_state, incident_releasability, incident_kind, incident_context, incident_withdrawn, seized_month, seized_in, category, country_of_manufacture, -quantity::bigint, -1 FROM old_items WHERE recovery = 'recovered'),
        delta AS (
            SELECT mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, sum(items) AS items, sum(records) AS records
            FROM change GROUP BY mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in
            HAVING sum(items) <> 0 OR sum(records) <> 0
        ),
        counted AS (
            INSERT INTO incidents_weaponflowcount AS counts (mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, items, records)
            SELECT mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in, items, records FROM delta ORDER BY mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in
            ON CONFLICT (mission_id, contingent_id, state, releasability, kind, context, withdrawn, month, country, category, made_in) DO UPDATE
            SET items = counts.items + EXCLUDED.items,
                records = counts.records + EXCLUDED.records
            RETURNING counts.id, counts.records
        )
        SELECT array_agg(id) INTO emptied FROM counted WHERE records = 0;
    END IF;
    IF emptied IS NOT NULL THEN
        DELETE FROM incidents_weaponflowcount WHERE id = ANY(emptied);
    END IF;
    RETURN NULL;
END;
$function$;

CREATE TRIGGER weaponitem_deleted_flow_counts AFTER DELETE ON public.incidents_weaponitem REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_flow_counts();
CREATE TRIGGER weaponitem_inserted_flow_counts AFTER INSERT ON public.incidents_weaponitem REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_flow_counts();
CREATE TRIGGER weaponitem_updated_flow_counts AFTER UPDATE ON public.incidents_weaponitem REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_flow_counts();
