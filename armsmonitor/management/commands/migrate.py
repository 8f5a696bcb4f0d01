"""`migrate` as the owner of the schema, then the application role's rights granted.

Django's own command, with two steps around it (armsmonitor/database_roles.py says why):

- with DATABASE_OWNER_URL set, it connects as that owner instead of DATABASE_URL's role,
  which has no right to create or alter tables;
- afterwards it grants DATABASE_APP_ROLE (by default DATABASE_URL's role) the application's
  rights on every table, the new ones included.
"""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from armsmonitor.database_roles import grant_application_role, role_exists

# Not NAME: the owner's URL names the same database, and under the test runner the
# connection already points at the test database.
OWNER_KEYS = ("USER", "PASSWORD", "HOST", "PORT")


class Command(migrate.Command):
    def handle(self, *args, **options):
        connection = connections[options["database"]]
        owner = settings.DATABASE_OWNER
        application_settings = {key: connection.settings_dict[key] for key in OWNER_KEYS}
        if owner is not None:
            connection.close()
            connection.settings_dict.update({key: owner[key] for key in OWNER_KEYS})
        try:
            super().handle(*args, **options)
            role = settings.DATABASE_APP_ROLE
            if role and role != connection.settings_dict["USER"]:
                if not role_exists(connection, role):
                    raise CommandError(
                        f"The application's database role {role!r} does not exist: create "
                        "it first (scripts/database.py create, or the documentation's "
                        '"Database roles", docs/operators/database-roles.md).'
                    )
                grant_application_role(connection, role)
        finally:
            if owner is not None:
                connection.close()
                connection.settings_dict.update(application_settings)
