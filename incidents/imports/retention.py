"""How long the files of refused import jobs are kept.

An upload that was refused (problems by row, or a file error) or failed imported nothing,
yet may hold what the import refused it for: personal data typed in the wrong column, or a
hostile file. Its file is deleted IMPORT_REFUSED_RETENTION_DAYS after the job ended; the
job and its report stay, so the import's history still says what was sent and why it was
refused. Files of imported jobs stay with their records.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from incidents.models import ImportJob
from organisations.audit import record_write

REFUSED_STATES = (ImportJob.State.REFUSED, ImportJob.State.FAILED)


def import_refused_files_purge(*, now=None) -> int:
    """Delete the files of refused and failed import jobs that ended more than the retention
    period ago; return how many were deleted. Idempotent: a job whose file is gone is
    skipped."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.IMPORT_REFUSED_RETENTION_DAYS)
    expired = ImportJob.objects.filter(state__in=REFUSED_STATES, finished_at__lt=cutoff).exclude(
        file=""
    )
    deleted = 0
    for job in expired.iterator():
        # The storage first: a file left behind by a crash between the two steps is found
        # again the next day, a job row without its file never is.
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        deleted += 1
    if deleted:
        # No one asked: the row says "worker" as its channel, with the count deleted.
        record_write(None, "import.purge_refused", records=deleted)
    return deleted
