"""The database runs exactly the functions and triggers of their one home,
incidents/derived/sql/ (incidents/derived/database.py): no more, no fewer, each as its file
says, each listed in the docs with what it keeps and the tests that check it."""

from pathlib import Path

from django.db import connection
from django.db.migrations.loader import MigrationLoader

from geo.core import borders
from incidents.derived.database import (
    CALLED_FUNCTIONS,
    database_functions,
    home_fingerprint,
    install_statements,
    triggers_markdown,
)
from incidents.derived.operations import InstallDatabaseCode
from incidents.models import Incident
from tests.personas import build_world

PROJECT_DIR = Path(__file__).resolve().parent.parent


def installed_functions() -> dict[str, tuple[str, str]]:
    """Our functions in the database (PostGIS's left out): name -> (definition, body)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.proname, pg_get_functiondef(p.oid), p.prosrc
            FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public'
              AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                              WHERE d.objid = p.oid AND d.deptype = 'e')
            """
        )
        return {name: (definition, body) for name, definition, body in cursor.fetchall()}


def installed_triggers() -> dict[str, tuple[str, str]]:
    """Every trigger a statement can fire (not the foreign keys'): name -> (table, definition)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid)
            FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
            WHERE NOT t.tgisinternal
            """
        )
        return {name: (table, definition) for name, table, definition in cursor.fetchall()}


def home_triggers() -> dict[str, tuple[str, str]]:
    return {
        trigger.name: (trigger.table, trigger.definition)
        for function in database_functions()
        for trigger in function.triggers
    }


def test_the_database_holds_the_homes_functions_and_no_other(db):
    installed = installed_functions()
    home = {function.name: function for function in database_functions()}
    assert set(installed) == set(home) | set(CALLED_FUNCTIONS)
    for name, function in home.items():
        assert installed[name][0].rstrip("\n") == function.definition, name
    for name, constant in CALLED_FUNCTIONS.items():
        assert installed[name][1] == getattr(borders, constant).split("$$")[1], name


def test_the_database_holds_the_homes_triggers_and_no_other(db):
    assert installed_triggers() == home_triggers()


def test_installing_the_home_again_changes_nothing_and_the_triggers_still_work(db):
    world = build_world()
    functions, triggers = installed_functions(), installed_triggers()
    with connection.cursor() as cursor:
        for statement in install_statements():
            cursor.execute(statement)
    assert installed_functions() == functions
    assert installed_triggers() == triggers

    incident = world.records["alpha_draft_L1"]
    revision = Incident.objects.get(pk=incident.pk).revision
    Incident.objects.filter(pk=incident.pk).update(narrative="Edited after the reinstall")
    assert Incident.objects.get(pk=incident.pk).revision == revision + 1


def test_the_last_migration_that_installs_the_home_installs_it_as_it_is(db):
    """A file edited without a migration that installs it again would reach fresh
    databases only: the databases migrated before the edit would keep the old code."""
    graph = MigrationLoader(connection).graph
    installs = sorted(
        (name, operation.fingerprint)
        for (app, name), migration in graph.nodes.items()
        if app == "incidents"
        for operation in migration.operations
        if isinstance(operation, InstallDatabaseCode)
    )
    assert installs, "no migration installs incidents/derived/sql/"
    last, fingerprint = installs[-1]
    assert fingerprint == home_fingerprint(), (
        f"incidents/derived/sql/ changed since {last}: add a migration with"
        f" InstallDatabaseCode(fingerprint={home_fingerprint()!r})"
    )


def test_every_trigger_function_says_what_it_keeps_and_names_tests_that_exist():
    functions = database_functions()
    assert functions
    for function in functions:
        assert function.keeps, function.name
        assert function.checked_by, function.name
        for path in function.checked_by:
            assert (PROJECT_DIR / path).is_file(), (function.name, path)


def test_the_docs_list_every_trigger_as_the_home_holds_it():
    docs = (PROJECT_DIR / "docs/development/derived-data.md").read_text()
    assert triggers_markdown() in docs, (
        "docs/development/derived-data.md is out of date: paste the output of"
        " `.venv/bin/python -m incidents.derived.database` into its trigger table"
    )
