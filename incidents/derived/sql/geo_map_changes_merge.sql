-- Keeps: The map's kept counts (geo_incidentmapcell): folds the oldest `batch` changes of the
-- log (geo_incidentmapchange) into the cells of every grain up to its finest kept level
-- (KEPT_UP_TO in incidents/derived/map_cells.py), exact and generalised locations, and
-- deletes them, in one statement; returns how many it merged (0 when the log is empty or
-- another merge holds the lock). A log left empty is truncated when no one else is using
-- it, so that readers never scan the dead rows of a long log (the function runs as its
-- owner: the application's role may not truncate). Called by
-- incidents/derived/merging.py, not a trigger.
-- Checked by: tests/test_map_data.py tests/test_map_categories.py
CREATE OR REPLACE FUNCTION public.geo_map_changes_merge(batch integer)
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
DECLARE
    merged integer;
BEGIN
    -- One merge at a time: two would update the same cells in opposite orders and
    -- deadlock. The lock ends with the transaction.
    IF NOT pg_try_advisory_xact_lock(hashtext('geo_map_changes_merge')) THEN
        RETURN 0;
    END IF;
    WITH taken AS (
        DELETE FROM geo_incidentmapchange
        WHERE id IN (SELECT id FROM geo_incidentmapchange ORDER BY id LIMIT batch)
        RETURNING *
    ), placed AS (
        SELECT level, position.generalised, position.x, position.y,
               floor(position.x / (360.0 / (2 ^ (level + 2))))::int AS column_index,
               floor(position.y / (360.0 / (2 ^ (level + 2))))::int AS row_index,
               taken.sign, taken.counts_incident, taken.month, taken.mission_id,
               taken.contingent_id, taken.state, taken.releasability, taken.country,
               taken.kind, taken.context, taken.categories
        FROM taken
        CROSS JOIN LATERAL (VALUES (false, taken.x, taken.y),
                                   (true, taken.generalised_x, taken.generalised_y))
            AS position (generalised, x, y)
        CROSS JOIN generate_series(2, 10) AS level
    ), counted (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories, incidents, sum_x, sum_y) AS (
            SELECT level, generalised, 0, row_index, column_index, '0001-01-01'::date, mission_id,
                   contingent_id, state, releasability, country, '', '', 0,
                   sum(sign), sum(sign * x), sum(sign * y)
            FROM placed WHERE counts_incident
            GROUP BY level, generalised, row_index, column_index, mission_id, contingent_id,
                     state, releasability, country
            UNION ALL
            SELECT level, generalised, 1, row_index, column_index, month, mission_id,
                   contingent_id, state, releasability, country, '', '', 0,
                   sum(sign), sum(sign * x), sum(sign * y)
            FROM placed WHERE counts_incident AND level <= 7
            GROUP BY level, generalised, row_index, column_index, mission_id, contingent_id,
                     state, releasability, country, month
            UNION ALL
            SELECT level, generalised, 2, row_index, column_index, '0001-01-01'::date, mission_id,
                   contingent_id, state, releasability, country, kind, context, 0,
                   sum(sign), sum(sign * x), sum(sign * y)
            FROM placed WHERE counts_incident AND level <= 8
            GROUP BY level, generalised, row_index, column_index, mission_id, contingent_id,
                     state, releasability, country, kind, context
            UNION ALL
            SELECT level, generalised, 3, row_index, column_index, month, mission_id,
                   contingent_id, state, releasability, country, kind, context, 0,
                   sum(sign), sum(sign * x), sum(sign * y)
            FROM placed WHERE counts_incident AND level <= 4
            GROUP BY level, generalised, row_index, column_index, mission_id, contingent_id,
                     state, releasability, country, month, kind, context
            UNION ALL
            SELECT level, generalised, 4, row_index, column_index, '0001-01-01'::date, mission_id,
                   contingent_id, state, releasability, country, '', '', categories,
                   sum(sign), sum(sign * x), sum(sign * y)
            FROM placed WHERE categories <> 0 AND level <= 8
            GROUP BY level, generalised, row_index, column_index, mission_id, contingent_id,
                     state, releasability, country, categories
            UNION ALL
            SELECT level, generalised, 5, row_index, column_index, month, mission_id,
                   contingent_id, state, releasability, country, '', '', categories,
                   sum(sign), sum(sign * x), sum(sign * y)
            FROM placed WHERE categories <> 0 AND level <= 4
            GROUP BY level, generalised, row_index, column_index, mission_id, contingent_id,
                     state, releasability, country, month, categories
    ), written AS (
        INSERT INTO geo_incidentmapcell AS cell (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories, incidents, sum_x, sum_y)
        SELECT * FROM counted
        ON CONFLICT (level, generalised, grain, row_index, column_index, month, mission_id, contingent_id, state, releasability, country, kind, context, categories)
        DO UPDATE SET incidents = cell.incidents + EXCLUDED.incidents,
            sum_x = cell.sum_x + EXCLUDED.sum_x, sum_y = cell.sum_y + EXCLUDED.sum_y
    )
    SELECT count(*) INTO merged FROM taken;
    -- Deleted rows stay in the table until a vacuum: a reader of the log would scan them
    -- all. An empty log nobody holds (NOWAIT: never queue behind a writer or a reader)
    -- goes at once.
    IF merged > 0 AND NOT EXISTS (SELECT 1 FROM geo_incidentmapchange) THEN
        BEGIN
            LOCK TABLE geo_incidentmapchange IN ACCESS EXCLUSIVE MODE NOWAIT;
            IF NOT EXISTS (SELECT 1 FROM geo_incidentmapchange) THEN
                TRUNCATE geo_incidentmapchange;
            END IF;
        EXCEPTION WHEN lock_not_available THEN
            NULL;  -- left to autovacuum (geo 0021 makes it prompt on this table)
        END;
    END IF;
    RETURN merged;
END
$function$;
