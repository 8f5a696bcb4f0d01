-- Keeps: The log of what the map counts (geo_incidentmapchange) as weapons are added,
-- recategorised, moved to another incident or deleted: for each incident whose set of
-- weapon categories changed, -1 for the set it had and +1 for the set it has, counted at
-- the category grains only.
-- Checked by: tests/test_map_categories.py
CREATE OR REPLACE FUNCTION public.geo_map_cells_follow_weapons()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
DECLARE
    removed text := 'SELECT NULL::bigint AS id, NULL::bigint AS incident_id, NULL::text AS category WHERE false';
    written text := removed;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        removed := 'SELECT id, incident_id, category FROM old_rows';
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        written := 'SELECT id, incident_id, category FROM new_rows';
    END IF;
    -- Through EXECUTE so that the three cases share one statement (the transition tables
    -- are visible to it as to any statement of this function).
    EXECUTE format('
        WITH changed_old AS (
            SELECT * FROM (%1$s) AS removed
            WHERE NOT EXISTS (SELECT 1 FROM (%2$s) AS written WHERE written.id = removed.id
                              AND written.incident_id = removed.incident_id
                              AND written.category = removed.category)
        ), changed_new AS (
            SELECT * FROM (%2$s) AS written
            WHERE NOT EXISTS (SELECT 1 FROM (%1$s) AS removed WHERE removed.id = written.id
                              AND removed.incident_id = written.incident_id
                              AND removed.category = written.category)
        ), touched AS (
            SELECT incident_id FROM changed_old UNION SELECT incident_id FROM changed_new
        ), now_held AS (
            SELECT weapon.incident_id,
                   bit_or(1 << (array_position(ARRAY[''revolver_pistol'', ''rifle_carbine'', ''assault_rifle'', ''smg'', ''lmg'', ''hmg'', ''grenade_launcher'', ''anti_tank_gun'', ''recoilless_rifle'', ''anti_tank_launcher'', ''manpads'', ''mortar'', ''craft_produced'', ''anti_aircraft_gun'', ''shotgun'', ''part_component'', ''other'']::text[], weapon.category::text) - 1)) AS categories
            FROM incidents_weaponitem AS weapon
            WHERE weapon.incident_id IN (SELECT incident_id FROM touched)
            GROUP BY weapon.incident_id
        ), before_held AS (
            SELECT incident_id,
                   bit_or(1 << (array_position(ARRAY[''revolver_pistol'', ''rifle_carbine'', ''assault_rifle'', ''smg'', ''lmg'', ''hmg'', ''grenade_launcher'', ''anti_tank_gun'', ''recoilless_rifle'', ''anti_tank_launcher'', ''manpads'', ''mortar'', ''craft_produced'', ''anti_aircraft_gun'', ''shotgun'', ''part_component'', ''other'']::text[], category::text) - 1)) AS categories
            FROM (
                SELECT weapon.incident_id, weapon.category FROM incidents_weaponitem AS weapon
                WHERE weapon.incident_id IN (SELECT incident_id FROM touched)
                  AND NOT EXISTS (SELECT 1 FROM changed_new WHERE changed_new.id = weapon.id)
                UNION ALL
                SELECT incident_id, category FROM changed_old
            ) AS former
            GROUP BY incident_id
        ), moved AS (
            SELECT touched.incident_id, COALESCE(before_held.categories, 0) AS held_before,
                   COALESCE(now_held.categories, 0) AS held_after
            FROM touched
            LEFT JOIN before_held USING (incident_id)
            LEFT JOIN now_held USING (incident_id)
        )
        INSERT INTO geo_incidentmapchange (sign, counts_incident, x, y, generalised_x,
            generalised_y, month, mission_id, contingent_id, state, releasability, country,
            kind, context, categories)
        SELECT change.sign, false, ST_X(incident.location), ST_Y(incident.location),
               ST_X(ST_SnapToGrid(incident.location, 0.25)),
               ST_Y(ST_SnapToGrid(incident.location, 0.25)),
               (date_trunc(''month'', incident.occurred_at AT TIME ZONE ''UTC''))::date,
               incident.mission_id, incident.contingent_id, incident.state,
               incident.releasability, incident.country, incident.kind, incident.context,
               change.categories
        FROM moved
        JOIN incidents_incident AS incident ON incident.id = moved.incident_id
        CROSS JOIN LATERAL (VALUES (moved.held_before, -1), (moved.held_after, 1))
            AS change (categories, sign)
        WHERE moved.held_before <> moved.held_after AND change.categories <> 0
          AND incident.withdrawn_at IS NULL', removed, written);
    RETURN NULL;
END
$function$;

CREATE TRIGGER geo_map_cells_weapons_delete AFTER DELETE ON public.incidents_weaponitem REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow_weapons();
CREATE TRIGGER geo_map_cells_weapons_insert AFTER INSERT ON public.incidents_weaponitem REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow_weapons();
CREATE TRIGGER geo_map_cells_weapons_update AFTER UPDATE ON public.incidents_weaponitem REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow_weapons();
