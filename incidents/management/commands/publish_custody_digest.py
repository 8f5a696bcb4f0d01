from django.core.management.base import BaseCommand

from incidents.custody_digests import custody_digest_publish


class Command(BaseCommand):
    help = (
        "Write a signed digest of every chain of custody's head into CUSTODY_DIGEST_DIR "
        "(Celery beat does it daily)."
    )

    def handle(self, *args, **options):
        path = custody_digest_publish()
        self.stdout.write(self.style.SUCCESS(f"Wrote {path} and {path.name}.sig"))
