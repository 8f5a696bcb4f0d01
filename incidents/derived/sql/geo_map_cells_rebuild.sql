-- Keeps: The map's kept counts (geo_incidentmapcell) made again from the incidents and their
-- weapons: empties the cells and the log, logs every incident as geo_map_cells_follow()
-- would on its insert (with its weapons' categories), and merges the log; returns how
-- many incidents it counted. For an operator (or a test) who doubts the counts; not a
-- trigger.
-- Checked by: tests/test_map_data.py tests/test_map_categories.py
CREATE OR REPLACE FUNCTION public.geo_map_cells_rebuild()
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
DECLARE
    counted integer;
BEGIN
    -- Waits for a merge that is running, and keeps any other from starting meanwhile.
    PERFORM pg_advisory_xact_lock(hashtext('geo_map_changes_merge'));
    TRUNCATE geo_incidentmapcell, geo_incidentmapchange;
    INSERT INTO geo_incidentmapchange (sign, counts_incident, x, y, generalised_x,
        generalised_y, month, mission_id, contingent_id, state, releasability, country,
        kind, context, categories)
    SELECT 1, true, ST_X(incident.location), ST_Y(incident.location),
           ST_X(ST_SnapToGrid(incident.location, 0.25)),
           ST_Y(ST_SnapToGrid(incident.location, 0.25)),
           (date_trunc('month', incident.occurred_at AT TIME ZONE 'UTC'))::date,
           incident.mission_id, incident.contingent_id, incident.state,
           incident.releasability, incident.country, incident.kind, incident.context,
           COALESCE(held.categories, 0)
    FROM incidents_incident AS incident
    LEFT JOIN (
        SELECT weapon.incident_id,
               bit_or(1 << (array_position(ARRAY['revolver_pistol', 'rifle_carbine', 'assault_rifle', 'smg', 'lmg', 'hmg', 'grenade_launcher', 'anti_tank_gun', 'recoilless_rifle', 'anti_tank_launcher', 'manpads', 'mortar', 'craft_produced', 'anti_aircraft_gun', 'shotgun', 'part_component', 'other']::text[], weapon.category::text) - 1)) AS categories
        FROM incidents_weaponitem AS weapon
        GROUP BY weapon.incident_id
    ) AS held ON held.incident_id = incident.id
    WHERE incident.withdrawn_at IS NULL;
    GET DIAGNOSTICS counted = ROW_COUNT;
    -- All at once: into empty cells, each row is written once (merged in batches, rows
    -- would be rewritten by every batch, their dead versions kept until this transaction
    -- ends). The merge's own lock is taken again by the same transaction: granted.
    PERFORM geo_map_changes_merge(2147483647);
    RETURN counted;
END
$function$;
