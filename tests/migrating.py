"""Running migrations backwards and forwards inside a test.

The migration executor, unlike `manage.py migrate` (armsmonitor/management/commands/
migrate.py), grants the application's database role nothing: a table dropped and made
again would be out of its reach, and the workers and servers that later tests start (they
connect as that role) would be refused it. Every migration run here grants it again.
"""

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from armsmonitor.database_roles import grant_application_role, role_exists


def migrate_to(targets: list[tuple[str, str]]):
    """Migrate to `targets`; the apps of that state, for the test's own models."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    _grant_application_role()
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    _grant_application_role()


def _grant_application_role() -> None:
    role = settings.DATABASE_APP_ROLE
    if role and role != connection.settings_dict["USER"] and role_exists(connection, role):
        grant_application_role(connection, role)
