from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.custody import custody_chains_verify_all


class Command(BaseCommand):
    help = (
        "Check every weapon's chain of custody: each event's HMAC and link, the head log, "
        "and every signed digest in CUSTODY_DIGEST_DIR (and any --digest given, e.g. an "
        "agency's copy). Lists each problem with the weapon it concerns; fails if any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--digest",
            type=Path,
            action="append",
            default=[],
            help="A digest file kept elsewhere (its .sig beside it) to check against too.",
        )

    def handle(self, *args, digest, **options):
        result = custody_chains_verify_all(digest_paths=digest)
        for problem in result.problems:
            self.stderr.write(problem)
        if result.problems:
            raise CommandError(f"{len(result.problems)} problems in the chains of custody.")
        self.stdout.write(
            self.style.SUCCESS(
                f"All chains of custody intact ({result.events} events, {result.chains} "
                f"chains, checked against {result.digests} digests)."
            )
        )
