"""Refused uploads are not kept forever: their files go after the retention period, their
jobs and reports stay (incidents/imports/retention.py)."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from incidents.imports.importer import import_job_create
from incidents.imports.retention import import_refused_files_purge
from incidents.models import ImportJob
from organisations.models import AuditEvent
from tests.personas import build_world
from tests.test_import import CLEAN_ROWS, HEADER, csv_file


def _job(world, content: bytes, name: str) -> ImportJob:
    return import_job_create(
        upload=SimpleUploadedFile(name, content),
        file_format="csv",
        contingent=world.records["alpha_draft_L1"].contingent,
        by=world.users["reporter_alpha"],
    )


def test_refused_uploads_lose_their_file_after_the_retention_period(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_REFUSED_RETENTION_DAYS = 30
    world = build_world()
    refused_old = _job(world, b"not,a,template\n1,2,3\n", "old.csv")
    refused_new = _job(world, b"not,a,template\n1,2,3\n", "new.csv")
    imported_old = _job(world, csv_file(CLEAN_ROWS, HEADER).getvalue(), "good.csv")
    assert (refused_old.state, imported_old.state) == ("refused", "done")
    long_ago = timezone.now() - timedelta(days=31)
    ImportJob.objects.filter(pk__in=[refused_old.pk, imported_old.pk]).update(finished_at=long_ago)
    old_path = refused_old.file.path

    assert import_refused_files_purge() == 1
    assert import_refused_files_purge() == 0  # nothing left to do

    refused_old.refresh_from_db()
    assert not refused_old.file and refused_old.report  # the report stays
    assert not (tmp_path / old_path).exists()
    for kept in (refused_new, imported_old):
        kept.refresh_from_db()
        assert kept.file and kept.file.storage.exists(kept.file.name)
    assert AuditEvent.objects.filter(action="import.purge_refused", records=1).exists()
