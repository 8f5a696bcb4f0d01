from django.core.management.base import BaseCommand

from geo.core.regions import REGIONS_FILE, regions_load


class Command(BaseCommand):
    help = "Create or update regional organisations and their member states."

    def handle(self, *args, **options):
        count = regions_load()
        self.stdout.write(
            self.style.SUCCESS(f"Loaded {count} regional organisations from {REGIONS_FILE.name}.")
        )
