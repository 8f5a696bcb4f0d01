"""Every function and trigger that PostgreSQL runs for ArmsMonitor, in one place.

Each file of incidents/derived/sql/ holds one function exactly as PostgreSQL prints it
(`pg_get_functiondef`), then the triggers that call it (`pg_get_triggerdef`); its first
comment lines say what it keeps and which tests check it. The migrations that first wrote
them (geo 0005-0017, incidents 0004-0031, organisations 0004-0005) are history: since
incidents 0035_database_code_home the database holds exactly these files, and
tests/test_database_code.py checks it function by function and trigger by trigger, so a
trigger changed in a migration but not here, or left behind by one, fails the suite.

To change one: edit its file, then add a migration with the operation
`InstallDatabaseCode(fingerprint=…)` (incidents/derived/operations.py), which installs every
file again; `home_fingerprint()` gives the value, and the suite fails until the last such
migration names the home as it is. A function dropped for good needs its DROP there too.

Two functions are not triggers but are called by the code: their SQL is
geo/core/borders.py's (`CALLED_FUNCTIONS`).

`python -m incidents.derived.database` prints the table of triggers that
docs/development/derived-data.md shows.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

SQL_DIR = Path(__file__).with_name("sql")

# Functions the code calls, not triggers: name -> the constant in geo.core.borders that
# creates it.
CALLED_FUNCTIONS = {
    "geo_country_near": "COUNTRY_NEAR_FUNCTION",
    "geo_location_doubt": "LOCATION_DOUBT_FUNCTION",
}

_TRIGGER = re.compile(
    r"^CREATE TRIGGER (?P<name>\w+) (?P<when>.+?) ON public\.(?P<table>\w+) "
    r"(?P<rest>.*)EXECUTE FUNCTION (?P<function>\w+)\(\)$"
)


@dataclass(frozen=True)
class DatabaseTrigger:
    name: str
    table: str
    # As pg_get_triggerdef prints it, without the closing semicolon.
    definition: str

    @property
    def when(self) -> str:
        """ "AFTER INSERT, per statement", "BEFORE DELETE OR UPDATE, per row", …"""
        match = _TRIGGER.match(self.definition)
        assert match, self.definition
        level = "per statement" if "FOR EACH STATEMENT" in match["rest"] else "per row"
        return f"{match['when']}, {level}"


@dataclass(frozen=True)
class DatabaseFunction:
    name: str
    keeps: str
    checked_by: tuple[str, ...]
    # As pg_get_functiondef prints it, without the closing semicolon.
    definition: str
    triggers: tuple[DatabaseTrigger, ...]

    @property
    def body(self) -> str:
        """The text between the dollar quotes: what pg_proc.prosrc holds."""
        return self.definition.split("$function$", 2)[1]


def _function_from_file(path: Path) -> DatabaseFunction:
    text = path.read_text()
    comments, _, code = text.partition("CREATE OR REPLACE FUNCTION")
    header = " ".join(line.removeprefix("--").strip() for line in comments.splitlines())
    keeps, _, checked_by = header.partition("Checked by:")
    definition, _, trigger_text = ("CREATE OR REPLACE FUNCTION" + code).partition("$function$;")
    triggers = []
    for line in trigger_text.splitlines():
        if not line.strip():
            continue
        match = _TRIGGER.match(line.removesuffix(";"))
        if not match or match["function"] != path.stem:
            raise ValueError(f"{path.name}: not a trigger calling {path.stem}(): {line}")
        triggers.append(DatabaseTrigger(match["name"], match["table"], line.removesuffix(";")))
    return DatabaseFunction(
        name=path.stem,
        keeps=keeps.removeprefix("Keeps:").strip(),
        checked_by=tuple(checked_by.split()),
        definition=definition + "$function$",
        triggers=tuple(triggers),
    )


def database_functions() -> list[DatabaseFunction]:
    """The trigger functions of incidents/derived/sql/ and their triggers, by name."""
    return [_function_from_file(path) for path in sorted(SQL_DIR.glob("*.sql"))]


def install_statements() -> list[str]:
    """The statements that install every function and trigger of the home, in a database
    that may hold older versions of them: each function replaced in place, each trigger
    dropped if it exists and created again. One statement each, so that no SQL splitter
    has to understand dollar quotes."""
    statements = []
    for function in database_functions():
        statements.append(function.definition)
        for trigger in function.triggers:
            # A trigger on a table that a later migration creates is left to that
            # migration's own InstallDatabaseCode: an earlier one reads the present files.
            statements.append(
                "DO $install$ BEGIN "
                f"IF to_regclass('public.{trigger.table}') IS NOT NULL THEN "
                f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table}; "
                f"{trigger.definition}; "
                "END IF; END $install$"
            )
    return statements


def home_fingerprint() -> str:
    """A digest of every file of the home. The last migration that installs the home names
    it: a file edited without a migration that installs it again fails the suite, since a
    database migrated before the edit would never get it."""
    digest = hashlib.sha256()
    for path in sorted(SQL_DIR.glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def triggers_markdown() -> str:
    """The table of every trigger function, as docs/development/derived-data.md shows it."""
    rows = [
        "| function | what it keeps | its triggers: table, name, when | checked by |",
        "|---|---|---|---|",
    ]
    for function in database_functions():
        triggers = "<br>".join(
            f"`{trigger.table}` `{trigger.name}`: {trigger.when}"
            for trigger in sorted(function.triggers, key=lambda t: (t.table, t.name))
        )
        tests = "<br>".join(f"`{path}`" for path in function.checked_by)
        rows.append(f"| `{function.name}` | {function.keeps} | {triggers} | {tests} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(triggers_markdown(), end="")
