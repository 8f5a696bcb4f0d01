"""`manage.py backup` and `manage.py restore` against the real PostgreSQL.

The tests commit their data (`transaction=True`) so that pg_dump, which has its own
connection, sees it; the backup dumps the test database. Restores go into scratch databases
created here and dropped at the end.
"""

import io
import json
import shutil
import tarfile
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import connection
from psycopg2 import sql

from armsmonitor.backups import _file_entry
from armsmonitor.management.commands.backup import Command as BackupCommand
from armsmonitor.management.commands.restore import Command as RestoreCommand
from incidents.models import Incident
from organisations.models import Contingent, Mission
from tests.personas import build_world

pytestmark = pytest.mark.django_db(transaction=True)


def _connect(dbname: str):
    config = connection.settings_dict
    return psycopg2.connect(
        dbname=dbname,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )


def _url(dbname: str) -> str:
    config = connection.settings_dict
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    return (
        f"postgres://{config['USER']}{password}@{config['HOST'] or '127.0.0.1'}"
        f":{config['PORT'] or 5432}/{dbname}"
    )


@pytest.fixture
def scratch_database():
    """A fresh empty database, dropped at the end whatever happens."""
    name = f"armsmonitor_restore_{uuid.uuid4().hex[:12]}"
    maintenance = _connect("postgres")
    maintenance.autocommit = True
    try:
        with maintenance.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield name
    finally:
        with maintenance.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        maintenance.close()


def _count(dbname: str, table: str) -> int:
    database = _connect(dbname)
    try:
        with database.cursor() as cursor:
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            return cursor.fetchone()[0]
    finally:
        database.close()


def _backup(to: Path) -> Path:
    out = io.StringIO()
    call_command(BackupCommand(), to=to, stdout=out)
    (path,) = to.glob("armsmonitor-backup-*")
    assert f"Wrote {path}" in out.getvalue()
    return path


def _restore(path: Path, database: str, media_root: Path, *, yes: bool = False) -> str:
    out = io.StringIO()
    call_command(
        RestoreCommand(),
        str(path),
        database_url=_url(database),
        media_root=str(media_root),
        yes=yes,
        stdout=out,
    )
    return out.getvalue()


@pytest.fixture
def world_with_upload(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "imports").mkdir(parents=True)
    (settings.MEDIA_ROOT / "imports" / "seizures.csv").write_bytes(b"id,kind\n1,seizure\n")
    return build_world()


def test_backup_writes_dump_media_and_manifest_of_the_test_database(tmp_path, world_with_upload):
    path = _backup(tmp_path / "backups")

    assert sorted(p.name for p in path.iterdir()) == [
        "database.dump",
        "manifest.json",
        "media.tar.gz",
    ]
    assert not list((tmp_path / "backups").glob(".*")), "no temporary folder left behind"
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["database"]["name"] == connection.settings_dict["NAME"]
    assert manifest["database"]["postgresql_major"] >= 13
    assert manifest["database"]["postgis"]
    assert manifest["tables"]["incidents_incident"] == Incident.objects.count() > 0
    assert manifest["tables"]["organisations_mission"] == 2
    assert "incidents" in manifest["migrations"]
    for name in ("database.dump", "media.tar.gz"):
        assert manifest["files"][name] == _file_entry(path / name)
    with tarfile.open(path / "media.tar.gz") as archive:
        assert "imports/seizures.csv" in archive.getnames()
    assert manifest["media_files"] == 1


def test_restore_into_a_fresh_database_gives_the_same_counts_and_uploads(
    tmp_path, world_with_upload, scratch_database
):
    originals = {
        "incidents_incident": Incident.objects.count(),
        "organisations_mission": Mission.objects.count(),
        "organisations_contingent": Contingent.objects.count(),
    }
    path = _backup(tmp_path / "backups")

    output = _restore(path, scratch_database, tmp_path / "restored-media")

    for table, count in originals.items():
        assert _count(scratch_database, table) == count
    assert "every row count matches the manifest" in output
    assert "incidents_incident" in output
    restored = tmp_path / "restored-media" / "imports" / "seizures.csv"
    assert restored.read_bytes() == b"id,kind\n1,seizure\n"

    # The scratch database now has tables: a second restore is refused without --yes …
    with pytest.raises(CommandError, match=r"already has \d+ tables.*--yes"):
        _restore(path, scratch_database, tmp_path / "restored-media")
    # … and replaces them with it.
    _restore(path, scratch_database, tmp_path / "restored-media", yes=True)
    assert _count(scratch_database, "incidents_incident") == originals["incidents_incident"]


def test_restore_refuses_a_backup_whose_dump_was_altered(
    tmp_path, world_with_upload, scratch_database
):
    path = _backup(tmp_path / "backups")
    damaged = tmp_path / "damaged"
    shutil.copytree(path, damaged)
    dump = bytearray((damaged / "database.dump").read_bytes())
    dump[len(dump) // 2] ^= 0xFF
    (damaged / "database.dump").write_bytes(bytes(dump))

    with pytest.raises(CommandError, match=r"database\.dump does not match the manifest"):
        _restore(damaged, scratch_database, tmp_path / "restored-media")
    shutil.copy(path / "database.dump", damaged / "database.dump")
    (damaged / "media.tar.gz").unlink()
    with pytest.raises(CommandError, match=r"media\.tar\.gz is missing"):
        _restore(damaged, scratch_database, tmp_path / "restored-media")


def test_restore_refuses_a_media_archive_member_that_climbs_out(tmp_path, scratch_database):
    path = _backup(tmp_path / "backups")
    evil = tmp_path / "evil-backup"
    shutil.copytree(path, evil)
    payload = b"overwritten"
    with tarfile.open(evil / "media.tar.gz", "w:gz") as archive:
        member = tarfile.TarInfo("../evil")
        member.size = len(payload)
        archive.addfile(member, io.BytesIO(payload))
    manifest = json.loads((evil / "manifest.json").read_text())
    manifest["files"]["media.tar.gz"] = _file_entry(evil / "media.tar.gz")
    (evil / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(CommandError, match=r"unsafe member '\.\./evil'"):
        _restore(evil, scratch_database, tmp_path / "restored-media")
    assert not (tmp_path / "evil").exists()
    scratch = _connect(scratch_database)
    with scratch.cursor() as cursor:
        cursor.execute("SELECT to_regclass('incidents_incident')")
        assert cursor.fetchone()[0] is None, "refused before the database was restored"
    scratch.close()


def test_backup_into_an_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(CommandError, match="Cannot write a backup under"):
        call_command(BackupCommand(), to=blocker / "backups", stdout=io.StringIO())


def test_failed_backup_leaves_no_folder_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr("armsmonitor.backups.POSTGRES_LIB", tmp_path / "no-postgresql")
    with pytest.raises(CommandError, match="pg_dump not found"):
        call_command(BackupCommand(), to=tmp_path / "backups", stdout=io.StringIO())
    assert list((tmp_path / "backups").iterdir()) == []


def test_manage_py_knows_backup_and_restore():
    assert get_commands()["backup"] == "armsmonitor"
    assert get_commands()["restore"] == "armsmonitor"
