"""Backups of the database and the uploads, with a manifest that lets a restore prove itself.

A backup is a folder `armsmonitor-backup-<UTC timestamp>/` holding

- `database.dump`: `pg_dump --format=custom` of the database,
- `media.tar.gz`: MEDIA_ROOT (possibly empty),
- `manifest.json`: SHA-256 and size of both files, the PostgreSQL and PostGIS versions, the
  last applied migration per app and the exact row count of every table of the project's
  apps, counted in the very snapshot that pg_dump dumps.

`backup_create` writes it under a temporary name and renames it only once complete;
`backup_verify` checks the checksums; `backup_restore` verifies, restores with pg_restore,
extracts the uploads and checks every row count against the manifest.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import environ
import psycopg2
from django.apps import apps
from django.conf import settings
from django.db import connections
from psycopg2 import sql

MANIFEST = "manifest.json"
DATABASE_DUMP = "database.dump"
MEDIA_ARCHIVE = "media.tar.gz"
BACKUP_PREFIX = "armsmonitor-backup-"
# Debian's versioned PostgreSQL binaries: /usr/lib/postgresql/<major>/bin/.
POSTGRES_LIB = Path("/usr/lib/postgresql")
FORMAT_VERSION = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


@dataclass(frozen=True)
class TableCount:
    table: str
    expected: int
    actual: int | None

    @property
    def matches(self) -> bool:
        return self.expected == self.actual


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict


@dataclass(frozen=True)
class RestoreResult:
    database: str
    media_root: Path
    counts: list[TableCount]


# --- connections and binaries ---------------------------------------------------------


def database_config(database_url: str | None = None, *, as_owner: bool = False) -> dict:
    """The connection settings of `database_url`, or of Django's default database (which,
    under the test runner, is the test database); `as_owner`, with the credentials of
    DATABASE_OWNER_URL where one is set (a restore creates tables, which the application's
    role may not)."""
    if database_url:
        return environ.Env.db_url_config(database_url)
    config = dict(connections["default"].settings_dict)
    if as_owner and settings.DATABASE_OWNER is not None:
        config.update({key: settings.DATABASE_OWNER[key] for key in ("USER", "PASSWORD")})
    return config


def _connect(config: dict):
    try:
        return psycopg2.connect(
            dbname=config["NAME"],
            user=config.get("USER") or None,
            password=config.get("PASSWORD") or None,
            host=config.get("HOST") or None,
            port=config.get("PORT") or None,
        )
    except psycopg2.Error as error:
        raise BackupError(f"Cannot connect to the database {config['NAME']}: {error}") from error


def _client_args(config: dict) -> tuple[list[str], dict]:
    """Connection arguments and environment for pg_dump/pg_restore (password via PGPASSWORD,
    never on the command line)."""
    args = []
    if config.get("HOST"):
        args += ["--host", str(config["HOST"])]
    if config.get("PORT"):
        args += ["--port", str(config["PORT"])]
    if config.get("USER"):
        args += ["--username", str(config["USER"])]
    environment = {**os.environ}
    if config.get("PASSWORD"):
        environment["PGPASSWORD"] = str(config["PASSWORD"])
    return [*args, "--no-password"], environment


def postgres_binary(name: str, major: int) -> str:
    """The PostgreSQL client `name` matching the server's major version:
    /usr/lib/postgresql/<major>/bin/<name> if present, else the one on PATH."""
    versioned = POSTGRES_LIB / str(major) / "bin" / name
    if versioned.is_file() and os.access(versioned, os.X_OK):
        return str(versioned)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found (neither {versioned} nor on PATH): "
            f"install postgresql-client-{major}."
        )
    return found


def _run(command: list[str], environment: dict) -> None:
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            command, env=environment, capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise BackupError(f"Cannot run {command[0]}: {error}") from error
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip()
        raise BackupError(f"{Path(command[0]).name} failed (exit {completed.returncode}): {detail}")


# --- what the manifest records --------------------------------------------------------


def project_tables() -> list[str]:
    """Tables of the project's own apps (those that live in the project folder), including
    many-to-many and history tables."""
    base = Path(settings.BASE_DIR).resolve()
    tables = set()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if not path.is_relative_to(base) or ".venv" in path.relative_to(base).parts:
            continue
        for model in config.get_models(include_auto_created=True):
            if model._meta.managed and not model._meta.proxy:
                tables.add(model._meta.db_table)
    return sorted(tables)


def _server_versions(cursor) -> tuple[str, int, str | None]:
    cursor.execute("SHOW server_version")
    version = cursor.fetchone()[0]
    cursor.execute("SHOW server_version_num")
    major = int(cursor.fetchone()[0]) // 10000
    cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
    row = cursor.fetchone()
    return version, major, row[0] if row else None


def _migration_state(cursor) -> dict[str, str]:
    cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return {}
    cursor.execute(
        "SELECT DISTINCT ON (app) app, name FROM django_migrations "
        "ORDER BY app, applied DESC, id DESC"
    )
    return dict(cursor.fetchall())


def _row_counts(cursor, tables: list[str]) -> dict[str, int | None]:
    """Exact row counts; None for a table that does not exist."""
    counts: dict[str, int | None] = {}
    for table in tables:
        cursor.execute("SELECT to_regclass(quote_ident(%s)) IS NOT NULL", [table])
        if not cursor.fetchone()[0]:
            counts[table] = None
            continue
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cursor.fetchone()[0]
    return counts


def _file_entry(path: Path) -> dict:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "size": path.stat().st_size}


# --- backup ---------------------------------------------------------------------------


def _media_archive(media_root: Path, target: Path) -> int:
    """Write MEDIA_ROOT's content to `target` (member names relative to MEDIA_ROOT);
    return the number of files."""
    files = 0
    with tarfile.open(target, "w:gz") as archive:
        if media_root.is_dir():
            for child in sorted(media_root.iterdir()):
                archive.add(child, arcname=child.name)
            files = sum(1 for member in archive.getmembers() if member.isfile())
    return files


@contextmanager
def _snapshot(config: dict) -> Iterator[tuple[object, str]]:
    """A repeatable-read transaction and its exported snapshot id, so that the row counts
    and pg_dump see exactly the same data."""
    connection = _connect(config)
    try:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            yield cursor, snapshot
    finally:
        connection.rollback()
        connection.close()


def backup_create(
    *, to: Path, database_url: str | None = None, media_root: Path | None = None
) -> BackupResult:
    """Dump the database and MEDIA_ROOT into a new `armsmonitor-backup-<UTC timestamp>/`
    folder under `to`, with a manifest; return its path and manifest.

    The folder is written under a hidden temporary name and renamed once complete, so a
    failed backup never leaves a folder that looks like a backup.
    """
    config = database_config(database_url)
    media_root = Path(media_root if media_root is not None else settings.MEDIA_ROOT)
    created_at = datetime.now(UTC)
    name = BACKUP_PREFIX + created_at.strftime("%Y%m%dT%H%M%SZ")
    to = Path(to)
    final = to / name
    temporary = to / f".{name}.partial"
    try:
        to.mkdir(parents=True, exist_ok=True)
        if final.exists():
            raise BackupError(f"{final} already exists.")
        temporary.mkdir()
    except OSError as error:
        raise BackupError(f"Cannot write a backup under {to}: {error}") from error

    try:
        with _snapshot(config) as (cursor, snapshot):
            version, major, postgis = _server_versions(cursor)
            pg_dump = postgres_binary("pg_dump", major)
            migrations = _migration_state(cursor)
            counts = _row_counts(cursor, project_tables())
            args, environment = _client_args(config)
            _run(
                [
                    pg_dump,
                    *args,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={temporary / DATABASE_DUMP}",
                    f"--dbname={config['NAME']}",
                ],
                environment,
            )
        media_files = _media_archive(media_root, temporary / MEDIA_ARCHIVE)
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": created_at.isoformat(timespec="seconds"),
            "database": {
                "name": config["NAME"],
                "postgresql": version,
                "postgresql_major": major,
                "postgis": postgis,
            },
            "migrations": migrations,
            "tables": {table: count for table, count in counts.items() if count is not None},
            "media_files": media_files,
            "files": {
                DATABASE_DUMP: _file_entry(temporary / DATABASE_DUMP),
                MEDIA_ARCHIVE: _file_entry(temporary / MEDIA_ARCHIVE),
            },
        }
        (temporary / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        temporary.rename(final)
    except (OSError, tarfile.TarError, psycopg2.Error) as error:
        shutil.rmtree(temporary, ignore_errors=True)
        raise BackupError(f"Backup failed: {error}") from error
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return BackupResult(path=final, manifest=manifest)


# --- verify and restore ---------------------------------------------------------------


def backup_verify(*, path: Path) -> dict:
    """Check every file named in the backup's manifest against its SHA-256 and size; return
    the manifest, or raise BackupError naming the first file that is missing or differs."""
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError as error:
        raise BackupError(f"{path} has no {MANIFEST}: not a backup folder.") from error
    except (OSError, ValueError) as error:
        raise BackupError(f"{MANIFEST} in {path} cannot be read: {error}") from error
    files = manifest.get("files") or {}
    for required in (DATABASE_DUMP, MEDIA_ARCHIVE):
        if required not in files:
            raise BackupError(f"{MANIFEST} does not list {required}.")
    for name, expected in files.items():
        if PurePosixPath(name).name != name:
            raise BackupError(f"{MANIFEST} names an unexpected file {name!r}.")
        file = path / name
        if not file.is_file():
            raise BackupError(f"{name} is missing from {path}.")
        actual = _file_entry(file)
        if actual != {"sha256": expected.get("sha256"), "size": expected.get("size")}:
            raise BackupError(
                f"{name} does not match the manifest (SHA-256 {actual['sha256']}, "
                f"expected {expected.get('sha256')}): the backup is damaged."
            )
    return manifest


def _safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's members, refusing any absolute path, `..`, or link leaving the folder."""
    members = archive.getmembers()
    for member in members:
        for name in (member.name, member.linkname if member.issym() or member.islnk() else ""):
            posix = PurePosixPath(name)
            if posix.is_absolute() or name.startswith(("/", "\\")) or ".." in posix.parts:
                raise BackupError(
                    f"{MEDIA_ARCHIVE} holds an unsafe member {member.name!r}: refused."
                )
        if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            raise BackupError(f"{MEDIA_ARCHIVE} holds a special file {member.name!r}: refused.")
    return members


def _user_tables(cursor) -> list[str]:
    """Tables in the database that do not belong to an extension (PostGIS's
    spatial_ref_sys does not make a database non-empty)."""
    cursor.execute(
        """
        SELECT n.nspname || '.' || c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_%'
          AND NOT EXISTS (
            SELECT 1 FROM pg_depend d
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
          )
        ORDER BY 1
        """
    )
    return [row[0] for row in cursor.fetchall()]


def backup_restore(
    *,
    path: Path,
    database_url: str | None = None,
    media_root: Path | None = None,
    replace: bool = False,
) -> RestoreResult:
    """Restore a backup into a database and a media folder, and prove it.

    Verifies every checksum and the media archive's member names before touching anything;
    refuses a database that already has tables unless `replace` (then pg_restore drops the
    dumped objects first, `--clean --if-exists`); restores with the pg_restore matching the
    server; extracts the uploads; compares every table's row count with the manifest and
    raises BackupError listing the tables that differ.
    """
    path = Path(path)
    manifest = backup_verify(path=path)
    config = database_config(database_url, as_owner=True)
    media_root = Path(media_root if media_root is not None else settings.MEDIA_ROOT)
    try:
        with tarfile.open(path / MEDIA_ARCHIVE, "r:gz") as archive:
            _safe_members(archive)
    except tarfile.TarError as error:
        raise BackupError(f"{MEDIA_ARCHIVE} cannot be read: {error}") from error

    connection = _connect(config)
    try:
        with connection.cursor() as cursor:
            _, major, _ = _server_versions(cursor)
            existing = _user_tables(cursor)
    finally:
        connection.close()
    if existing and not replace:
        shown = ", ".join(existing[:5]) + (", …" if len(existing) > 5 else "")
        raise BackupError(
            f"The database {config['NAME']} already has {len(existing)} tables ({shown}). "
            "Restore into an empty database, or pass --yes to replace its objects."
        )

    args, environment = _client_args(config)
    command = [
        postgres_binary("pg_restore", major),
        *args,
        "--no-owner",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={config['NAME']}",
    ]
    if replace:
        command += ["--clean", "--if-exists"]
    _run([*command, str(path / DATABASE_DUMP)], environment)

    try:
        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(path / MEDIA_ARCHIVE, "r:gz") as archive:
            archive.extractall(media_root, members=_safe_members(archive), filter="data")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"Cannot extract the uploads into {media_root}: {error}") from error

    expected: dict[str, int] = manifest.get("tables") or {}
    connection = _connect(config)
    try:
        with connection.cursor() as cursor:
            actual = _row_counts(cursor, sorted(expected))
    finally:
        connection.close()
    counts = [TableCount(table, expected[table], actual[table]) for table in sorted(expected)]
    wrong = [count for count in counts if not count.matches]
    if wrong:
        listed = "; ".join(
            f"{count.table}: expected {count.expected}, found "
            f"{'no table' if count.actual is None else count.actual}"
            for count in wrong
        )
        raise BackupError(f"Row counts differ from the manifest in {len(wrong)} tables: {listed}")
    return RestoreResult(database=config["NAME"], media_root=media_root, counts=counts)
