from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from geo.core.boundaries import (
    SCALES,
    BoundaryFileError,
    BoundaryLoadReport,
    admin_areas_load,
    countries_load,
    world_atlas_source,
)
from geo.models import Country


class Command(BaseCommand):
    help = (
        "Load country boundaries from Natural Earth (npm package world-atlas), or admin "
        "areas from a GeoJSON, Shapefile or GeoPackage file you supply."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=SCALES,
            default="10m",
            help="Natural Earth scale of the country boundaries.",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Skip countries already loaded from the same source.",
        )
        parser.add_argument(
            "--admin",
            type=Path,
            metavar="FILE",
            help="Load admin areas from FILE instead of countries.",
        )
        parser.add_argument("--level", type=int, default=1, help="Admin level of FILE's areas.")
        parser.add_argument(
            "--name-field",
            default="shapeName",
            help="Field holding the area's name (geoBoundaries: shapeName).",
        )
        parser.add_argument("--code-field", help="Field holding the area's code.")
        parser.add_argument(
            "--country",
            help="ISO alpha-3 of every area in FILE; otherwise "
            "each area's country is found by location.",
        )
        parser.add_argument("--layer", help="Layer of FILE to read (default: the first).")
        parser.add_argument("--source", help="Data set and version, kept with each area.")

    def handle(self, *args, **options):
        try:
            if options["admin"]:
                report = admin_areas_load(
                    path=options["admin"],
                    level=options["level"],
                    name_field=options["name_field"],
                    code_field=options["code_field"],
                    country=options["country"],
                    layer=options["layer"],
                    source=options["source"],
                )
                what = f"level-{options['level']} admin areas"
            else:
                source = world_atlas_source(options["scale"])
                if options["if_missing"] and Country.objects.filter(source=source).exists():
                    self.stdout.write(f"Countries already loaded from {source}.")
                    return
                report = countries_load(scale=options["scale"])
                what = f"countries from {source}"
        except BoundaryFileError as error:
            raise CommandError(str(error)) from error
        self._print(report, what)

    def _print(self, report: BoundaryLoadReport, what: str) -> None:
        self.stdout.write(self.style.SUCCESS(f"Loaded {report.loaded} {what}."))
        for heading, lines in (
            ("Repaired", report.repaired),
            ("Refused", report.refused),
            ("Skipped", report.skipped),
        ):
            if lines:
                self.stdout.write(f"{heading} ({len(lines)}):")
                for line in lines:
                    self.stdout.write(f"  {line}")
