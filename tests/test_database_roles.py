"""The application's database role, tried in a real PostgreSQL session: it may add to the
audit trail and the custody chains and read them, but neither change, delete nor truncate
them, nor switch their triggers off, nor change the schema (armsmonitor/database_roles.py).

The role is the one `make test` creates and the migrations grant (DATABASE_APP_ROLE); run
outside `make test`, the test makes a role of its own and grants it the same way."""

from datetime import UTC, datetime

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from psycopg2 import errors

from armsmonitor.database_roles import append_only_tables, grant_application_role
from incidents.choices import CustodyEventKind, WeaponCategory
from incidents.custody import custody_event_append
from incidents.models import WeaponItem
from organisations.audit import record_write
from tests.personas import build_world

pytestmark = pytest.mark.django_db(transaction=True)

STAND_IN_ROLE = "armsmonitor_app_role_test"


@pytest.fixture
def application_role():
    role = settings.DATABASE_APP_ROLE
    if not role:
        role = STAND_IN_ROLE
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER')
        grant_application_role(connection, role)
    return role


@pytest.fixture
def as_application(application_role):
    """A connection to the test database as the application's role, one transaction per
    statement (each refusal rolls back on its own)."""
    database = settings.DATABASES["default"]
    session = psycopg2.connect(
        dbname=database["NAME"],
        user=application_role,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
    )
    session.autocommit = True
    yield session
    session.close()


@pytest.fixture
def recorded_rows():
    """An audit row and a custody event, committed, for the role to try to rewrite."""
    world = build_world()
    reporter = world.users["reporter_alpha"]
    incident = world.records["alpha_draft_L1"]
    weapon = WeaponItem.objects.create(
        incident=incident, category=WeaponCategory.ASSAULT_RIFLE, quantity=1
    )
    custody_event_append(
        weapon=weapon,
        by=reporter,
        kind=CustodyEventKind.DOCUMENTED,
        occurred_at=datetime(2025, 3, 15, tzinfo=UTC),
    )
    record_write(reporter, "test.row")


def _refused(session, statement: str):
    with session.cursor() as cursor, pytest.raises(psycopg2.Error) as refusal:
        cursor.execute(statement)
    return refusal.value


@pytest.mark.parametrize("table", append_only_tables())
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET id = id",
        "DELETE FROM {table}",
        "TRUNCATE {table}",
        "TRUNCATE {table} CASCADE",
        "ALTER TABLE {table} DISABLE TRIGGER ALL",
        "ALTER TABLE {table} DISABLE TRIGGER USER",
        "DROP TABLE {table}",
    ],
)
def test_the_application_role_cannot_rewrite_the_audit_trail_or_custody(
    recorded_rows, as_application, table, statement
):
    refusal = _refused(as_application, statement.format(table=table))
    # Refused for want of a right (42501), or as not the owner (also 42501 in PostgreSQL).
    assert isinstance(refusal, errors.InsufficientPrivilege), refusal
    with as_application.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] >= 1  # still there, and readable


def test_the_application_role_cannot_switch_triggers_off_for_its_session(as_application):
    refusal = _refused(as_application, "SET session_replication_role = replica")
    assert isinstance(refusal, errors.InsufficientPrivilege), refusal


@pytest.mark.parametrize("table", append_only_tables())
def test_the_application_role_may_add_to_and_read_the_append_only_tables(application_role, table):
    with connection.cursor() as cursor:
        for right, expected in [
            ("SELECT", True),
            ("INSERT", True),
            ("UPDATE", False),
            ("DELETE", False),
            ("TRUNCATE", False),
        ]:
            cursor.execute(
                "SELECT has_table_privilege(%s, %s, %s)", [application_role, table, right]
            )
            assert cursor.fetchone()[0] is expected, (table, right)


def test_the_application_role_owns_nothing_truncates_nothing_and_changes_no_schema(
    application_role, as_application
):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles"
            " WHERE rolname = %s",
            [application_role],
        )
        assert cursor.fetchone() == (False, False, False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relowner ="
            " (SELECT oid FROM pg_roles WHERE rolname = %s)",
            [application_role],
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
            " AND has_table_privilege(%s, c.oid, 'TRUNCATE')",
            [application_role],
        )
        assert cursor.fetchall() == []
    for statement in [
        "TRUNCATE incidents_incident CASCADE",
        "CREATE TABLE public.intruder (id int)",
        "ALTER TABLE incidents_incident DISABLE TRIGGER ALL",
        "CREATE OR REPLACE FUNCTION public.intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    ]:
        assert isinstance(_refused(as_application, statement), errors.InsufficientPrivilege)
    # What the import and the analyses need: staging rows in a temporary table.
    with as_application.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE staging (id int)")
        cursor.execute("INSERT INTO staging VALUES (1)")


@pytest.mark.django_db(transaction=True)
def test_the_application_role_merges_the_map_log_which_is_truncated_only_once_empty(
    world, as_application
):
    """geo_map_changes_merge() runs as its owner so that it may truncate the emptied log
    (incidents/derived/sql/): the application's role calls it, and gains nothing else."""
    with as_application.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM geo_incidentmapchange")
        logged = cursor.fetchone()[0]
        assert logged > 1  # the world's incidents, logged as they were written
        cursor.execute("SELECT geo_map_changes_merge(1)")
        assert cursor.fetchone()[0] == 1
        cursor.execute("SELECT count(*) FROM geo_incidentmapchange")
        assert cursor.fetchone()[0] == logged - 1  # not empty: left as it was
        cursor.execute("SELECT geo_map_changes_merge(1000000)")
        assert cursor.fetchone()[0] == logged - 1
        cursor.execute("SELECT pg_relation_size('geo_incidentmapchange')")
        assert cursor.fetchone()[0] == 0  # truncated: an empty file, no dead rows to scan
        refusal = _refused(as_application, "TRUNCATE geo_incidentmapchange")
    assert isinstance(refusal, errors.InsufficientPrivilege), refusal
