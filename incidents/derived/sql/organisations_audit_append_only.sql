-- Keeps: Refuses to update, delete or truncate the audit trail.
-- Checked by: tests/test_audit.py
CREATE OR REPLACE FUNCTION public.organisations_audit_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$function$;

CREATE TRIGGER audit_append_only BEFORE DELETE OR UPDATE ON public.organisations_auditevent FOR EACH ROW EXECUTE FUNCTION organisations_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON public.organisations_auditevent FOR EACH STATEMENT EXECUTE FUNCTION organisations_audit_append_only();
