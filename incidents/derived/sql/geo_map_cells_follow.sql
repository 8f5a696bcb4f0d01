-- Keeps: The map's kept counts (geo_incidentmapcell) as incidents are inserted, edited,
-- withdrawn or deleted: every grain, exact and generalised locations.
-- Checked by: tests/test_map_data.py tests/test_map_categories.py
CREATE OR REPLACE FUNCTION public.geo_map_cells_follow()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        
INSERT INTO geo_incidentmapcell AS cell (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories, incidents, sum_x, sum_y)

SELECT level, generalised, grain, row_index, column_index, month, mission_id, contingent_id,
       state, releasability, country, kind, context, 0, incidents, sum_x, sum_y
FROM (
SELECT level, generalised, CASE WHEN GROUPING(month) = 0 AND GROUPING(kind) = 0 THEN 3
                WHEN GROUPING(kind) = 0 THEN 2 WHEN GROUPING(month) = 0 THEN 1 ELSE 0 END AS grain, row_index, column_index,
       COALESCE(month, '0001-01-01'::date), mission_id, contingent_id, state, releasability,
       country, COALESCE(kind, ''), COALESCE(context, ''),
       - count(*), - sum(x), - sum(y)
FROM (
    SELECT level, generalised, x, y,
           floor(x / (360.0 / (2 ^ (level + 2))))::int AS column_index,
           floor(y / (360.0 / (2 ^ (level + 2))))::int AS row_index,
           month, mission_id, contingent_id, state, releasability, country, kind, context
    FROM (
        SELECT position.generalised, ST_X(position.point) AS x, ST_Y(position.point) AS y,
               (date_trunc('month', occurred_at AT TIME ZONE 'UTC'))::date AS month,
               mission_id, contingent_id, state, releasability, country, kind, context
        FROM old_rows
        CROSS JOIN LATERAL (VALUES (false, location),
                                   (true, ST_SnapToGrid(location, 0.25)))
            AS position (generalised, point)
        WHERE withdrawn_at IS NULL
    ) AS positioned
    CROSS JOIN generate_series(2, 10) AS level
) AS placed
GROUP BY level, generalised, row_index, column_index, mission_id, contingent_id, state, releasability, country, GROUPING SETS ((month, kind, context), (kind, context), (month), ())
) AS counted (level, generalised, grain, row_index, column_index, month,
    mission_id, contingent_id, state, releasability, country, kind, context, incidents,
    sum_x, sum_y)

ON CONFLICT (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories)
DO UPDATE SET incidents = cell.incidents + EXCLUDED.incidents,
    sum_x = cell.sum_x + EXCLUDED.sum_x, sum_y = cell.sum_y + EXCLUDED.sum_y
;
        
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
SELECT incident.location, incident.occurred_at, incident.mission_id, incident.contingent_id,
       incident.state, incident.releasability, incident.country, held.categories,
       -1 AS sign
FROM old_rows AS incident
CROSS JOIN LATERAL (
    SELECT bit_or((1 << (array_position(ARRAY['revolver_pistol', 'rifle_carbine', 'assault_rifle', 'smg', 'lmg', 'hmg', 'grenade_launcher', 'anti_tank_gun', 'recoilless_rifle', 'anti_tank_launcher', 'manpads', 'mortar', 'craft_produced', 'anti_aircraft_gun', 'shotgun', 'part_component', 'other']::text[], weapon.category::text) - 1))) AS categories
    FROM incidents_weaponitem AS weapon WHERE weapon.incident_id = incident.id
) AS held
WHERE incident.withdrawn_at IS NULL AND held.categories <> 0
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
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        
INSERT INTO geo_incidentmapcell AS cell (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories, incidents, sum_x, sum_y)

SELECT level, generalised, grain, row_index, column_index, month, mission_id, contingent_id,
       state, releasability, country, kind, context, 0, incidents, sum_x, sum_y
FROM (
SELECT level, generalised, CASE WHEN GROUPING(month) = 0 AND GROUPING(kind) = 0 THEN 3
                WHEN GROUPING(kind) = 0 THEN 2 WHEN GROUPING(month) = 0 THEN 1 ELSE 0 END AS grain, row_index, column_index,
       COALESCE(month, '0001-01-01'::date), mission_id, contingent_id, state, releasability,
       country, COALESCE(kind, ''), COALESCE(context, ''),
        count(*),  sum(x),  sum(y)
FROM (
    SELECT level, generalised, x, y,
           floor(x / (360.0 / (2 ^ (level + 2))))::int AS column_index,
           floor(y / (360.0 / (2 ^ (level + 2))))::int AS row_index,
           month, mission_id, contingent_id, state, releasability, country, kind, context
    FROM (
        SELECT position.generalised, ST_X(position.point) AS x, ST_Y(position.point) AS y,
               (date_trunc('month', occurred_at AT TIME ZONE 'UTC'))::date AS month,
               mission_id, contingent_id, state, releasability, country, kind, context
        FROM new_rows
        CROSS JOIN LATERAL (VALUES (false, location),
                                   (true, ST_SnapToGrid(location, 0.25)))
            AS position (generalised, point)
        WHERE withdrawn_at IS NULL
    ) AS positioned
    CROSS JOIN generate_series(2, 10) AS level
) AS placed
GROUP BY level, generalised, row_index, column_index, mission_id, contingent_id, state, releasability, country, GROUPING SETS ((month, kind, context), (kind, context), (month), ())
) AS counted (level, generalised, grain, row_index, column_index, month,
    mission_id, contingent_id, state, releasability, country, kind, context, incidents,
    sum_x, sum_y)

ON CONFLICT (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories)
DO UPDATE SET incidents = cell.incidents + EXCLUDED.incidents,
    sum_x = cell.sum_x + EXCLUDED.sum_x, sum_y = cell.sum_y + EXCLUDED.sum_y
;
        
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
SELECT incident.location, incident.occurred_at, incident.mission_id, incident.contingent_id,
       incident.state, incident.releasability, incident.country, held.categories,
       1 AS sign
FROM new_rows AS incident
CROSS JOIN LATERAL (
    SELECT bit_or((1 << (array_position(ARRAY['revolver_pistol', 'rifle_carbine', 'assault_rifle', 'smg', 'lmg', 'hmg', 'grenade_launcher', 'anti_tank_gun', 'recoilless_rifle', 'anti_tank_launcher', 'manpads', 'mortar', 'craft_produced', 'anti_aircraft_gun', 'shotgun', 'part_component', 'other']::text[], weapon.category::text) - 1))) AS categories
    FROM incidents_weaponitem AS weapon WHERE weapon.incident_id = incident.id
) AS held
WHERE incident.withdrawn_at IS NULL AND held.categories <> 0
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

CREATE TRIGGER geo_map_cells_delete AFTER DELETE ON public.incidents_incident REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow();
CREATE TRIGGER geo_map_cells_insert AFTER INSERT ON public.incidents_incident REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow();
CREATE TRIGGER geo_map_cells_update AFTER UPDATE ON public.incidents_incident REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_map_cells_follow();
