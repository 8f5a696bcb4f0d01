-- Keeps: The category grains of geo_incidentmapcell as weapons are added, recategorised,
-- moved to another incident or deleted.
-- Checked by: tests/test_map_categories.py
CREATE OR REPLACE FUNCTION public.geo_map_cells_follow_weapons()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
BEGIN
    IF TG_OP = 'INSERT' THEN
        
INSERT INTO geo_incidentmapcell AS cell (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories, incidents, sum_x, sum_y)

SELECT level, generalised, CASE WHEN GROUPING(month) = 0 THEN 5 ELSE 4 END, row_index,
       column_index, COALESCE(month, '0001-01-01'::date), mission_id, contingent_id, state,
       releasability, country, '', '', categories, sum(sign), sum(sign * x), sum(sign * y)
FROM (
    SELECT level, generalised, x, y,
           floor(x / (360.0 / (2 ^ (level + 2))))::int AS column_index,
           floor(y / (360.0 / (2 ^ (level + 2))))::int AS row_index,
           month, mission_id, contingent_id, state, releasability, country, categories, sign
    FROM (
        SELECT position.generalised, ST_X(position.point) AS x, ST_Y(position.point) AS y,
               (date_trunc('month', occurred_at AT TIME ZONE 'UTC'))::date AS month,
               mission_id, contingent_id, state, releasability, country, categories, sign
        FROM (
WITH changed_old AS (
    SELECT id, incident_id, category FROM (SELECT NULL::bigint AS id, NULL::bigint AS incident_id, NULL::text AS category WHERE false) AS removed
    WHERE NOT EXISTS (SELECT 1 FROM new_rows AS written WHERE written.id = removed.id
                      AND written.incident_id = removed.incident_id
                      AND written.category = removed.category)
), changed_new AS (
    SELECT id, incident_id, category FROM new_rows AS written
    WHERE NOT EXISTS (SELECT 1 FROM (SELECT NULL::bigint AS id, NULL::bigint AS incident_id, NULL::text AS category WHERE false) AS removed WHERE removed.id = written.id
                      AND removed.incident_id = written.incident_id
                      AND removed.category = written.category)
), touched AS (
    SELECT incident_id FROM changed_old UNION SELECT incident_id FROM changed_new
), now_held AS (
    SELECT weapon.incident_id, bit_or((1 << (array_position(ARRAY['revolver_pistol', 'rifle_carbine', 'assault_rifle', 'smg', 'lmg', 'hmg', 'grenade_launcher', 'anti_tank_gun', 'recoilless_rifle', 'anti_tank_launcher', 'manpads', 'mortar', 'craft_produced', 'anti_aircraft_gun', 'shotgun', 'part_component', 'other']::text[], weapon.category::text) - 1))) AS categories
    FROM incidents_weaponitem AS weapon
    WHERE weapon.incident_id IN (SELECT incident_id FROM touched)
    GROUP BY weapon.incident_id
), before_held AS (
    SELECT incident_id, bit_or((1 << (array_position(ARRAY['revolver_pistol', 'rifle_carbine', 'assault_rifle', 'smg', 'lmg', 'hmg', 'grenade_launcher', 'anti_tank_gun', 'recoilless_rifle', 'anti_tank_launcher', 'manpads', 'mortar', 'craft_produced', 'anti_aircraft_gun', 'shotgun', 'part_component', 'other']::text[], category::text) - 1))) AS categories
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
SELECT incident.location, incident.occurred_at, incident.mission_id, incident.contingent_id,
       incident.state, incident.releasability, incident.country, change.categories,
       change.sign
FROM moved
JOIN incidents_incident AS incident ON incident.id = moved.incident_id
CROSS JOIN LATERAL (VALUES (moved.held_before, -1), (moved.held_after, 1))
    AS change (categories, sign)
WHERE moved.held_before <> moved.held_after AND change.categories <> 0
  AND incident.withdrawn_at IS NULL
) AS held
        CROSS JOIN LATERAL (VALUES (false, location),
                                   (true, ST_SnapToGrid(location, 0.25)))
            AS position (generalised, point)
    ) AS positioned
    CROSS JOIN generate_series(2, 10) AS level
) AS placed
GROUP BY level, generalised, row_index, column_index, mission_id, contingent_id, state,
         releasability, country, categories, GROUPING SETS ((month), ())

ON CONFLICT (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories)
DO UPDATE SET incidents = cell.incidents + EXCLUDED.incidents,
    sum_x = cell.sum_x + EXCLUDED.sum_x, sum_y = cell.sum_y + EXCLUDED.sum_y
;
    ELSIF TG_OP = 'DELETE' THEN
        
INSERT INTO geo_incidentmapcell AS cell (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories, incidents, sum_x, sum_y)

SELECT level, generalised, CASE WHEN GROUPING(month) = 0 THEN 5 ELSE 4 END, row_index,
       column_index, COALESCE(month, '0001-01-01'::date), mission_id, contingent_id, state,
       releasability, country, '', '', categories, sum(sign), sum(sign * x), sum(sign * y)
FROM (
    SELECT level, generalised, x, y,
           floor(x / (360.0 / (2 ^ (level + 2))))::int AS column_index,
           floor(y / (360.0 / (2 ^ (level + 2))))::int AS row_index,
           month, mission_id, contingent_id, state, releasability, country, categories, sign
    FROM (
        SELECT position.generalised, ST_X(position.point) AS x, ST_Y(position.point) AS y,
               (date_trunc('month', occurred_at AT TIME ZONE 'UTC'))::date AS month,
               mission_id, contingent_id, state, releasability, country, categories, sign
        FROM (
WITH changed_old AS (
    SELECT id, incident_id, category FROM old_rows AS removed
    WHERE NOT EXISTS (SELECT 1 FROM (SELECT NULL::bigint AS id, NULL::bigint AS incident_id, NULL::text AS category WHERE false) AS written WHERE written.id = removed.id
                      AND written.incident_id = removed.incident_id
                      AND written.category = removed.category)
), changed_new AS (
    SELECT id, incident_id, category FROM (SELECT NULL::bigint AS id, NULL::bigint AS incident_id, NULL::text AS category WHERE false) AS written
    WHERE NOT EXISTS (SELECT 1 FROM old_rows AS removed WHERE removed.id = written.id
                      AND removed.incident_id = written.incident_id
                      AND removed.category = written.category)
), touched AS (
    SELECT incident_id FROM changed_old UNION SELECT incident_id FROM changed_new
), now_held AS (
    SELECT weapon.incident_id, bit_or((1 << (array_position(ARRAY['revolver_pistol', 'rifle_carbine', 'assault_rifle', 'smg', 'lmg', 'hmg', 'grenade_launcher', 'anti_tank_gun', 'recoilless_rifle', 'anti_tank_launcher', 'manpads', 'mortar', 'craft_produced', 'anti_aircraft_gun', 'shotgun', 'part_component', 'other']::text[], weapon.category::text) - 1))) AS categories
    FROM incidents_weaponitem AS weapon
    WHERE weapon.incident_id IN (SELECT incident_id FROM touched)
    GROUP BY weapon.incident_id
), before_held AS (
    SELECT incident_id, bit_or((1 << (array_position(ARRAY['revolver_pistol', 'rifle_carbine', 'assault_rifle', 'smg', 'lmg', 'hmg', 'grenade_launcher', 'anti_tank_gun', 'recoilless_rifle', 'anti_tank_launcher', 'manpads', 'mortar', 'craft_produced', 'anti_aircraft_gun', 'shotgun', 'part_component', 'other']::text[], category::text) - 1))) AS categories
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
SELECT incident.location, incident.occurred_at, incident.mission_id, incident.contingent_id,
       incident.state, incident.releasability, incident.country, change.categories,
       change.sign
FROM moved
JOIN incidents_incident AS incident ON incident.id = moved.incident_id
CROSS JOIN LATERAL (VALUES (moved.held_before, -1), (moved.held_after, 1))
    AS change (categories, sign)
WHERE moved.held_before <> moved.held_after AND change.categories <> 0
  AND incident.withdrawn_at IS NULL
) AS held
        CROSS JOIN LATERAL (VALUES (false, location),
                                   (true, ST_SnapToGrid(location, 0.25)))
            AS position (generalised, point)
    ) AS positioned
    CROSS JOIN generate_series(2, 10) AS level
) AS placed
GROUP BY level, generalised, row_index, column_index, mission_id, contingent_id, state,
         releasability, country, categories, GROUPING SETS ((month), ())

ON CONFLICT (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories)
DO UPDATE SET incidents = cell.incidents + EXCLUDED.incidents,
    sum_x = cell.sum_x + EXCLUDED.sum_x, sum_y = cell.sum_y + EXCLUDED.sum_y
;
    ELSE
        
INSERT INTO geo_incidentmapcell AS cell (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories, incidents, sum_x, sum_y)

SELECT level, generalised, CASE WHEN GROUPING(month) = 0 THEN 5 ELSE 4 END, row_index,
       column_index, COALESCE(month, '0001-01-01'::date), mission_id, contingent_id, state,
       releasability, country, '', '', categories, sum(sign), sum(sign * x), sum(sign * y)
FROM (
    SELECT level, generalised, x, y,
           floor(x / (360.0 / (2 ^ (level + 2))))::int AS column_index,
           floor(y / (360.0 / (2 ^ (level + 2))))::int AS row_index,
           month, mission_id, contingent_id, state, releasability, country, categories, sign
    FROM (
        SELECT position.generalised, ST_X(position.point) AS x, ST_Y(position.point) AS y,
               (date_trunc('month', occurred_at AT TIME ZONE 'UTC'))::date AS month,
               mission_id, contingent_id, state, releasability, country, categories, sign
        FROM (
WITH changed_old AS (
    SELECT id, incident_id, category FROM old_rows AS removed
    WHERE NOT EXISTS (SELECT 1 FROM new_rows AS written WHERE written.id = removed.id
                      AND written.incident_id = removed.incident_id
                      AND written.category = removed.category)
), changed_new AS (
    SELECT id, incident_id, category FROM new_rows AS written
    WHERE NOT EXISTS (SELECT 1 FROM old_rows AS removed WHERE removed.id = written.id
                      AND removed.incident_id = written.incident_id
                      AND removed.category = written.category)
), touched AS (
    SELECT incident_id FROM changed_old UNION SELECT incident_id FROM changed_new
), now_held AS (
    SELECT weapon.incident_id, bit_or((1 << (array_position(ARRAY['revolver_pistol', 'rifle_carbine', 'assault_rifle', 'smg', 'lmg', 'hmg', 'grenade_launcher', 'anti_tank_gun', 'recoilless_rifle', 'anti_tank_launcher', 'manpads', 'mortar', 'craft_produced', 'anti_aircraft_gun', 'shotgun', 'part_component', 'other']::text[], weapon.category::text) - 1))) AS categories
    FROM incidents_weaponitem AS weapon
    WHERE weapon.incident_id IN (SELECT incident_id FROM touched)
    GROUP BY weapon.incident_id
), before_held AS (
    SELECT incident_id, bit_or((1 << (array_position(ARRAY['revolver_pistol', 'rifle_carbine', 'assault_rifle', 'smg', 'lmg', 'hmg', 'grenade_launcher', 'anti_tank_gun', 'recoilless_rifle', 'anti_tank_launcher', 'manpads', 'mortar', 'craft_produced', 'anti_aircraft_gun', 'shotgun', 'part_component', 'other']::text[], category::text) - 1))) AS categories
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
SELECT incident.location, incident.occurred_at, incident.mission_id, incident.contingent_id,
       incident.state, incident.releasability, incident.country, change.categories,
       change.sign
FROM moved
JOIN incidents_incident AS incident ON incident.id = moved.incident_id
CROSS JOIN LATERAL (VALUES (moved.held_before, -1), (moved.held_after, 1))
    AS change (categories, sign)
WHERE moved.held_before <> moved.held_after AND change.categories <> 0
  AND incident.withdrawn_at IS NULL
) AS held
        CROSS JOIN LATERAL (VALUES (false, location),
                                   (true, ST_SnapToGrid(location, 0.25)))
            AS position (generalised, point)
    ) AS positioned
    CROSS JOIN generate_series(2, 10) AS level
) AS placed
GROUP BY level, generalised, row_index, column_index, mission_id, contingent_id, state,
         releasability, country, categories, GROUPING SETS ((month), ())

ON CONFLICT (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories)
DO UPDATE SET incidents = cell.incidents + EXCLUDED.incidents,
    sum_x = cell.sum_x + EXCLUDED.sum_x, sum_y = cell.sum_y + EXCLUDED.sum_y
;
    END IF;
    RETURN NULL;
END
$function$;

CREATE TRIGGER geo_map_cells_weapons_delete AFTER DELETE ON public.incidents_weaponitem REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow_weapons();
CREATE TRIGGER geo_map_cells_weapons_insert AFTER INSERT ON public.incidents_weaponitem REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow_weapons();
CREATE TRIGGER geo_map_cells_weapons_update AFTER UPDATE ON public.incidents_weaponitem REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow_weapons();
