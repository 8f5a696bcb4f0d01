-- Keeps: The log of what the map counts (geo_incidentmapchange) as incidents are inserted,
-- edited, withdrawn or deleted: -1 for what a changed incident counted, +1 for what it counts
-- now (an edit that changes nothing the map counts logs nothing).
-- Checked by: tests/test_map_data.py tests/test_map_categories.py
CREATE OR REPLACE FUNCTION public.geo_map_cells_follow()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
DECLARE
    changed text;
BEGIN
    -- The columns the map counts by; an update that leaves them all as they were is not
    -- a change of the map.
    IF TG_OP = 'INSERT' THEN
        changed := 'SELECT 1 AS sign, * FROM new_rows';
    ELSIF TG_OP = 'DELETE' THEN
        changed := 'SELECT -1 AS sign, * FROM old_rows';
    ELSE
        changed := '
            SELECT -1 AS sign, before.* FROM old_rows AS before JOIN new_rows AS after USING (id)
            WHERE (before.location, before.occurred_at, before.mission_id, before.contingent_id,
                   before.state, before.releasability, before.country, before.kind,
                   before.context, before.withdrawn_at)
                  IS DISTINCT FROM
                  (after.location, after.occurred_at, after.mission_id, after.contingent_id,
                   after.state, after.releasability, after.country, after.kind,
                   after.context, after.withdrawn_at)
            UNION ALL
            SELECT 1 AS sign, after.* FROM new_rows AS after JOIN old_rows AS before USING (id)
            WHERE (before.location, before.occurred_at, before.mission_id, before.contingent_id,
                   before.state, before.releasability, before.country, before.kind,
                   before.context, before.withdrawn_at)
                  IS DISTINCT FROM
                  (after.location, after.occurred_at, after.mission_id, after.contingent_id,
                   after.state, after.releasability, after.country, after.kind,
                   after.context, after.withdrawn_at)';
    END IF;
    -- Run through EXECUTE so that the three cases share one projection (the transition
    -- tables are visible to it as to any statement of this function).
    EXECUTE format('
        INSERT INTO geo_incidentmapchange (sign, counts_incident, x, y, generalised_x,
            generalised_y, month, mission_id, contingent_id, state, releasability, country,
            kind, context, categories)
        SELECT incident.sign, true, ST_X(incident.location), ST_Y(incident.location),
               ST_X(ST_SnapToGrid(incident.location, 0.25)),
               ST_Y(ST_SnapToGrid(incident.location, 0.25)),
               (date_trunc(''month'', incident.occurred_at AT TIME ZONE ''UTC''))::date,
               incident.mission_id, incident.contingent_id, incident.state,
               incident.releasability, incident.country, incident.kind, incident.context,
               COALESCE(held.categories, 0)
        FROM (%s) AS incident
        LEFT JOIN LATERAL (
            SELECT bit_or(1 << (array_position(ARRAY[''revolver_pistol'', ''rifle_carbine'', ''assault_rifle'', ''smg'', ''lmg'', ''hmg'', ''grenade_launcher'', ''anti_tank_gun'', ''recoilless_rifle'', ''anti_tank_launcher'', ''manpads'', ''mortar'', ''craft_produced'', ''anti_aircraft_gun'', ''shotgun'', ''part_component'', ''other'']::text[],
                                               weapon.category::text) - 1)) AS categories
            FROM incidents_weaponitem AS weapon WHERE weapon.incident_id = incident.id
        ) AS held ON true
        WHERE incident.withdrawn_at IS NULL', changed);
    RETURN NULL;
END
$function$;

CREATE TRIGGER geo_map_cells_delete AFTER DELETE ON public.incidents_incident REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow();
CREATE TRIGGER geo_map_cells_insert AFTER INSERT ON public.incidents_incident REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow();
CREATE TRIGGER geo_map_cells_update AFTER UPDATE ON public.incidents_incident REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow();
