"""The application's database role and what it may do.

The application (web server, Celery workers) connects as a role that is neither superuser
nor owner of any table. So, whatever a bug or an intruder in the application does:

- it cannot change or delete a row of the audit trail or of a custody chain, nor TRUNCATE
  any table (only an owner or a role granted TRUNCATE may);
- it cannot disable a trigger (ALTER TABLE needs the owner) or switch triggers off for its
  session (`session_replication_role` needs a superuser);
- it cannot create, alter or drop tables (no CREATE on the schema); temporary tables, which
  the import and the analyses stage their rows in, remain allowed.

`manage.py migrate` (armsmonitor/management/commands/migrate.py) calls
`grant_application_role` after every migration, so tables added later are covered too.
"""

from django.apps import apps
from django.db.backends.base.base import BaseDatabaseWrapper

# Rows that are written once and never changed: the audit trail, each weapon's chain of
# custody (whose keyed hashes show a change) and the log of the chains' heads (which shows
# a deletion of a chain's tail).
APPEND_ONLY_MODELS = (
    "organisations.AuditEvent",
    "incidents.CustodyEvent",
    "incidents.CustodyChainHead",
)


def append_only_tables() -> list[str]:
    return [apps.get_model(label)._meta.db_table for label in APPEND_ONLY_MODELS]


def grant_application_role(connection: BaseDatabaseWrapper, role: str) -> None:
    """Give `role` the rights of the application on the database `connection` is connected
    to (as the owner of its tables, or a superuser), and no others. Idempotent."""
    quote = connection.ops.quote_name
    role_name = quote(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        database = quote(cursor.fetchone()[0])
        statements = [
            f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role_name}",
            f"GRANT USAGE ON SCHEMA public TO {role_name}",
            # PostgreSQL 15 no longer lets every role create in the public schema; older
            # servers do, hence the explicit revoke from PUBLIC.
            f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role_name}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role_name}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role_name}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role_name}",
        ]
        statements += [
            f"REVOKE UPDATE, DELETE ON {quote(table)} FROM {role_name}"
            for table in append_only_tables()
        ]
        for statement in statements:
            cursor.execute(statement)


def role_exists(connection: BaseDatabaseWrapper, role: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        return cursor.fetchone() is not None
