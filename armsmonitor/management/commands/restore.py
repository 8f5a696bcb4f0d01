from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from armsmonitor.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup folder written by `manage.py backup`: verify its checksums, restore "
        "the database with pg_restore, extract the uploads, and check every row count."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup_dir", type=Path, help="The armsmonitor-backup-… folder.")
        parser.add_argument(
            "--database-url", help="Database to restore into (default: DATABASE_URL)."
        )
        parser.add_argument(
            "--media-root", type=Path, help="Folder to extract uploads into (default MEDIA_ROOT)."
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Replace the objects of a database that already has tables.",
        )

    def handle(self, *args, backup_dir, database_url, media_root, yes, **options):
        try:
            result = backup_restore(
                path=backup_dir, database_url=database_url, media_root=media_root, replace=yes
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        width = max((len(count.table) for count in result.counts), default=5)
        lines = [f"{'table':<{width}}  {'manifest':>9}  {'restored':>9}"]
        lines += [
            f"{count.table:<{width}}  {count.expected:>9}  {count.actual:>9}"
            for count in result.counts
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {backup_dir} into {result.database} and {result.media_root}: "
                f"{len(result.counts)} tables, every row count matches the manifest."
            )
        )
