-- Keeps: The serials of seized weapons as the registry's matching reads them (incidents_weaponserial: serial number, restored serial, each component's), and queues the weapons whose serials or make were written for the hit check (incidents_hitcheck).
-- Checked by: tests/test_registry_hits.py
CREATE OR REPLACE FUNCTION public.incidents_weaponitem_serials()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM incidents_weaponserial AS s USING old_items AS o WHERE s.weapon_id = o.id;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        WITH changed AS (
            SELECT n.* FROM new_items AS n JOIN old_items AS o ON o.id = n.id
            WHERE (n.serial_number, n.restored_serial_number, n.component_serials, n.make,
                   n.incident_id)
                  IS DISTINCT FROM
                  (o.serial_number, o.restored_serial_number, o.component_serials, o.make,
                   o.incident_id)
        ),
        gone AS (
            DELETE FROM incidents_weaponserial AS s USING changed WHERE s.weapon_id = changed.id
        ),
        added AS (
            INSERT INTO incidents_weaponserial (weapon_id, incident_id, component, serial)
            SELECT id, incident_id, 'weapon', serial_number FROM changed
            WHERE btrim(serial_number) <> ''
            UNION ALL
            SELECT id, incident_id, 'restored', restored_serial_number FROM changed
            WHERE btrim(restored_serial_number) <> ''
            UNION ALL
            SELECT changed.id, changed.incident_id, left(entry ->> 'component', 10),
                   left(entry ->> 'serial', 60)
            FROM changed, jsonb_array_elements(
                CASE jsonb_typeof(changed.component_serials)
                    WHEN 'array' THEN changed.component_serials ELSE '[]'::jsonb END
            ) AS entry
            WHERE btrim(coalesce(entry ->> 'serial', '')) <> ''
            RETURNING weapon_id
        )
        INSERT INTO incidents_hitcheck (weapon_id, queued_at)
        SELECT DISTINCT weapon_id, now() FROM added;
        RETURN NULL;
    END IF;
    WITH added AS (
        INSERT INTO incidents_weaponserial (weapon_id, incident_id, component, serial)
        SELECT id, incident_id, 'weapon', serial_number FROM new_items
        WHERE btrim(serial_number) <> ''
        UNION ALL
        SELECT id, incident_id, 'restored', restored_serial_number FROM new_items
        WHERE btrim(restored_serial_number) <> ''
        UNION ALL
        SELECT new_items.id, new_items.incident_id, left(entry ->> 'component', 10),
               left(entry ->> 'serial', 60)
        FROM new_items, jsonb_array_elements(
            CASE jsonb_typeof(new_items.component_serials)
                WHEN 'array' THEN new_items.component_serials ELSE '[]'::jsonb END
        ) AS entry
        WHERE btrim(coalesce(entry ->> 'serial', '')) <> ''
        RETURNING weapon_id
    )
    INSERT INTO incidents_hitcheck (weapon_id, queued_at)
    SELECT DISTINCT weapon_id, now() FROM added;
    RETURN NULL;
END;
$function$;

CREATE TRIGGER weaponitem_deleted_serials AFTER DELETE ON public.incidents_weaponitem REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_serials();
CREATE TRIGGER weaponitem_inserted_serials AFTER INSERT ON public.incidents_weaponitem REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_serials();
CREATE TRIGGER weaponitem_updated_serials AFTER UPDATE ON public.incidents_weaponitem REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION incidents_weaponitem_serials();
