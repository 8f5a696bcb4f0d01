"""The migration operation that installs the database's functions and triggers from their
one home (incidents/derived/sql/, read by incidents/derived/database.py)."""

from django.db import migrations

from incidents.derived.database import install_statements


class InstallDatabaseCode(migrations.RunSQL):
    """Install every function and trigger of incidents/derived/sql/ as the files are now.

    Unlike other migrations, this one reads the present code: a migration that changes a
    function edits its file and runs this operation again. `fingerprint` is
    `home_fingerprint()` when the migration was written: tests/test_database_code.py fails
    while the last of these migrations names another, so that no edit reaches fresh
    databases only. Going backwards it does nothing; the migration that changed a file
    says how to go back in its own reverse SQL."""

    reduces_to_sql = True

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        super().__init__(sql=tuple(install_statements()), reverse_sql=migrations.RunSQL.noop)

    def describe(self) -> str:
        return "Install the functions and triggers of incidents/derived/sql/"

    def deconstruct(self):
        return (self.__class__.__qualname__, [], {"fingerprint": self.fingerprint})
