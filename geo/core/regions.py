"""Regional organisations and their member states, from geo/core/regional_organisations.json."""

import json
from datetime import date
from pathlib import Path

from django.db import transaction

from geo.countries import validate_country_code
from geo.models import Region

REGIONS_FILE = Path(__file__).with_name("regional_organisations.json")


@transaction.atomic
def regions_load(*, path: Path = REGIONS_FILE) -> int:
    """Create or update every regional organisation in the file; return how many."""
    listing = json.loads(path.read_text(encoding="utf-8"))
    as_of = date.fromisoformat(listing["members_as_of"])
    for entry in listing["regions"]:
        for member in entry["members"]:
            validate_country_code(member)
        Region.objects.update_or_create(
            code=entry["code"],
            defaults={
                "name": entry["name"],
                "member_countries": entry["members"],
                "source": entry["source"],
                "members_as_of": as_of,
            },
        )
    return len(listing["regions"])
