from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from armsmonitor.backups import DATABASE_DUMP, MEDIA_ARCHIVE, BackupError, backup_create


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, custom format) and MEDIA_ROOT into a new folder "
        "armsmonitor-backup-<UTC timestamp>/ with a manifest of checksums and row counts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--to",
            type=Path,
            default=Path(settings.BASE_DIR) / ".data" / "backups",
            help="Folder to write the backup folder into (default .data/backups).",
        )

    def handle(self, *args, to, **options):
        try:
            result = backup_create(to=to)
        except BackupError as error:
            raise CommandError(str(error)) from error
        manifest = result.manifest
        files = manifest["files"]
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {result.path}")
            + f"\n  {len(manifest['tables'])} tables, {sum(manifest['tables'].values())} rows"
            + f"\n  {DATABASE_DUMP}: {_size(files[DATABASE_DUMP]['size'])}"
            + f"\n  {MEDIA_ARCHIVE}: {_size(files[MEDIA_ARCHIVE]['size'])}, "
            + f"{manifest['media_files']} file{'' if manifest['media_files'] == 1 else 's'}"
        )
