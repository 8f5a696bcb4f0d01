import secrets
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.demo import demo_dataset_create, demo_logins_ensure, demo_organisations_ensure
from incidents.models import Incident


class Command(BaseCommand):
    help = (
        "Create demo missions, contingents, incidents, weapons and traces in the Central "
        "African Republic, the DR Congo and South Sudan, and the demo logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--incidents", type=int, default=2_000, help="How many incidents to add (default 2000)."
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="Random seed: the same seed gives the same data set.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Add incidents only if there are none yet (used by make run).",
        )
        parser.add_argument(
            "--login-file",
            type=Path,
            help="Create demo logins; their password is kept in this file.",
        )

    def handle(self, *args, incidents, seed, if_empty, login_file, **options):
        if incidents < 0:
            raise CommandError("--incidents must be zero or more.")
        demo_organisations_ensure()
        if login_file:
            self._ensure_logins(login_file)
        if if_empty and Incident.objects.exists():
            self.stdout.write("Incidents already present: no demo incidents added.")
            return
        summary = demo_dataset_create(incidents=incidents, seed=seed)
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {summary.incidents} incidents, {summary.weapons} weapons and "
                f"{summary.trace_requests} trace requests across {summary.missions} missions "
                f"and {summary.contingents} contingents."
            )
        )

    def _ensure_logins(self, login_file: Path) -> None:
        if login_file.exists():
            password = login_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(12)
            login_file.parent.mkdir(parents=True, exist_ok=True)
            login_file.write_text(password + "\n")
            login_file.chmod(0o600)
        usernames = demo_logins_ensure(password=password)
        self.stdout.write("Demo logins (password: " + password + "): " + ", ".join(usernames))
