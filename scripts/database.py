"""Database chores for the set-up scripts, reading the same variables as the settings do.

database.py create        create the two roles, the database (owned by the owner role) and
                          the postgis extension, where missing; hand existing objects to the
                          owner role
database.py server-major  print the server's PostgreSQL major version
database.py is-local      exit 0 if the server runs on this machine

Three connections (see docs/operators/database-roles.md):

- DATABASE_ADMIN_URL: a superuser, used here only, to create roles, the database and PostGIS
  (an extension that only a superuser may create). Default: DATABASE_OWNER_URL's server as
  the `postgres` user, else DATABASE_URL.
- DATABASE_OWNER_URL: the role that owns the schema and runs the migrations.
- DATABASE_URL: the application's role (web server and workers): neither superuser nor owner.

Without DATABASE_OWNER_URL, one role does everything, as a developer's database may; with
DATABASE_APP_ROLE set (make test), that role is created too, for the tests' workers.
"""

import os
import sys

import environ
import psycopg2
from psycopg2 import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/armsmonitor"


def connect(config: dict, dbname: str):
    return psycopg2.connect(
        dbname=dbname,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )


def url_config(name: str, default: str | None = None) -> dict | None:
    url = os.environ.get(name) or default
    return environ.Env.db_url_config(url) if url else None


def admin_config(application: dict, owner: dict | None) -> dict:
    explicit = url_config("DATABASE_ADMIN_URL")
    if explicit:
        return explicit
    if owner is None:
        return application
    return {**owner, "USER": "postgres", "PASSWORD": ""}


def ensure_login_role(cursor, name: str, password: str | None) -> None:
    """A role that may log in and nothing more: no superuser, no database or role creation.
    Its password is (re)set from the URL that names it, so a changed .env takes effect."""
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    verb = "ALTER" if cursor.fetchone() else "CREATE"
    statement = sql.SQL(
        "{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    ).format(sql.SQL(verb), sql.Identifier(name))
    if password:
        statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
    if verb == "CREATE":
        print(f"==> Creating the database role {name}")
    cursor.execute(statement)


# The schema's own objects (tables, sequences, views, functions such as the trigger
# functions), not those of extensions (PostGIS's spatial_ref_sys and functions).
OWN_OBJECTS = """
SELECT kind, name FROM (
    SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                          WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind,
           format('%%I.%%I', n.nspname, c.relname) AS name, c.oid, 'pg_class'::regclass AS cat,
           c.relowner AS owner
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
    UNION ALL
    SELECT 'FUNCTION', format('%%I.%%I(%%s)', n.nspname, p.proname,
                              pg_get_function_identity_arguments(p.oid)),
           p.oid, 'pg_proc'::regclass, p.proowner
    FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public'
) AS object
WHERE owner <> (SELECT oid FROM pg_roles WHERE rolname = %s)
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                  WHERE d.classid = object.cat AND d.objid = object.oid AND d.deptype = 'e')
"""


def hand_objects_to(cursor, owner: str) -> None:
    """Make `owner` the owner of every object of the schema, so that it can migrate a
    database first set up by another role (a superuser, before the roles were split).
    Sequences owned by a table follow their table."""
    cursor.execute(OWN_OBJECTS, [owner])
    objects = cursor.fetchall()
    for kind, name in objects:
        cursor.execute(
            sql.SQL("ALTER {} {} OWNER TO {}").format(
                sql.SQL(kind), sql.SQL(name), sql.Identifier(owner)
            )
        )
    if objects:
        print(f"==> Handed {len(objects)} objects of the schema to {owner}")


def create(application: dict, owner: dict | None) -> None:
    admin = admin_config(application, owner)
    name = application["NAME"]
    maintenance = connect(admin, "postgres")
    maintenance.autocommit = True
    with maintenance.cursor() as cursor:
        if owner is not None:
            ensure_login_role(cursor, owner["USER"], owner["PASSWORD"])
        if owner is not None or os.environ.get("DATABASE_APP_ROLE"):
            app_role = os.environ.get("DATABASE_APP_ROLE") or application["USER"]
            ensure_login_role(cursor, app_role, application["PASSWORD"] if owner else None)
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            print(f"==> Creating the database {name}")
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        if owner is not None:
            cursor.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                    sql.Identifier(name), sql.Identifier(owner["USER"])
                )
            )
    maintenance.close()
    database = connect(admin, name)
    database.autocommit = True
    with database.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        if owner is not None:
            hand_objects_to(cursor, owner["USER"])
    database.close()


def main(command: str) -> int:
    application = url_config("DATABASE_URL", DEFAULT_URL)
    owner = url_config("DATABASE_OWNER_URL")
    if command == "is-local":
        return 0 if application["HOST"] in ("", "localhost", "127.0.0.1", "::1") else 1
    if command == "server-major":
        maintenance = connect(admin_config(application, owner), "postgres")
        with maintenance.cursor() as cursor:
            cursor.execute("SHOW server_version_num")
            print(int(cursor.fetchone()[0]) // 10000)
        maintenance.close()
        return 0
    create(application, owner)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
