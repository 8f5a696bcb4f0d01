from django.core.management.base import BaseCommand, CommandError

from incidents.models import CustodyEvent
from incidents.services import custody_chains_verify


class Command(BaseCommand):
    help = "Recompute every weapon's chain of custody and report any broken link."

    def handle(self, *args, **options):
        problems = custody_chains_verify()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} broken links in the chains of custody.")
        self.stdout.write(
            self.style.SUCCESS(
                f"All chains of custody intact ({CustodyEvent.objects.count()} events)."
            )
        )
