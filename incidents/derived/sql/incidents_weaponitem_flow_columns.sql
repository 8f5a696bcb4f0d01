-- Keeps: Each weapon's copies of its incident's keyed columns (country and month of
-- seizure, mission, contingent, state, releasability, kind, context, withdrawn) and its
-- established illicit origin (origin_*: its IllicitOrigin record, else its latest trace
-- that established a diversion).
-- Checked by: tests/test_analysis_flows.py tests/test_flow_counts.py
CREATE OR REPLACE FUNCTION public.incidents_weaponitem_flow_columns()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
DECLARE
    recorded record;
    latest record;
    named_country varchar;
    named_point geometry;
    named_transit varchar[];
BEGIN
    SELECT incident.country, incident.occurred_at, incident.mission_id,
           incident.contingent_id, incident.state, incident.releasability, incident.kind,
           incident.context, incident.withdrawn_at IS NOT NULL
    INTO NEW.seized_in, NEW.seized_at, NEW.incident_mission_id, NEW.incident_contingent_id,
         NEW.incident_state, NEW.incident_releasability, NEW.incident_kind,
         NEW.incident_context, NEW.incident_withdrawn
    FROM incidents_incident AS incident
    WHERE incident.id = NEW.incident_id;
    -- Also on INSERT: with the deferred foreign keys, an origin or a trace may be written
    -- before its item.
    SELECT origin.method, origin.kind, origin.diversion_country, origin.diversion_point,
           origin.trace_id
    INTO recorded
    FROM incidents_illicitorigin AS origin
    WHERE origin.weapon_id = NEW.id;
    IF FOUND THEN
        SELECT trace.diversion_country, trace.diversion_point, trace.transit_countries
        INTO named_country, named_point, named_transit
        FROM incidents_tracerequest AS trace
        WHERE trace.id = recorded.trace_id;
        NEW.origin_source := recorded.method;
        NEW.origin_kind := recorded.kind;
        NEW.origin_country := COALESCE(NULLIF(recorded.diversion_country, ''), named_country, '');
        NEW.origin_trace_id := recorded.trace_id;
        NEW.origin_point := COALESCE(recorded.diversion_point, named_point);
        NEW.origin_transit := NULLIF(named_transit, '{}');
        RETURN NEW;
    END IF;
    SELECT trace.id, trace.diversion_country, trace.diversion_point, trace.transit_countries
    INTO latest
    FROM incidents_tracerequest AS trace
    WHERE trace.weapon_id = NEW.id
      AND trace.diversion_established AND trace.diversion_country <> ''
    ORDER BY COALESCE(trace.answered_on, '-infinity') DESC, trace.sent_on DESC, trace.id DESC
    LIMIT 1;
    IF FOUND THEN
        NEW.origin_source := 'trace';
        NEW.origin_kind := 'not_recorded';
        NEW.origin_country := latest.diversion_country;
        NEW.origin_trace_id := latest.id;
        NEW.origin_point := latest.diversion_point;
        NEW.origin_transit := NULLIF(latest.transit_countries, '{}');
    ELSE
        NEW.origin_source := '';
        NEW.origin_kind := '';
        NEW.origin_country := '';
        NEW.origin_trace_id := NULL;
        NEW.origin_point := NULL;
        NEW.origin_transit := NULL;
    END IF;
    RETURN NEW;
END;
$function$;

CREATE TRIGGER weaponitem_flow_columns BEFORE INSERT OR UPDATE ON public.incidents_weaponitem FOR EACH ROW EXECUTE FUNCTION incidents_weaponitem_flow_columns();
