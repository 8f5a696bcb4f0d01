"""The columns of an incident import file, and how each cell is read.

One row is one incident, or one weapon of an incident: rows with the same
`external_reference` make one incident (their incident columns must agree), each adding the
weapon its weapon columns describe. Every reader raises ValueError with a message for the
person who fills in the spreadsheet.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pycountry

from incidents.choices import (
    ActorType,
    Context,
    DatePrecision,
    IncidentKind,
    LocationPrecision,
    SourceReliability,
    WeaponCategory,
)
from organisations.choices import Releasability

MAX_QUANTITY = 100_000
COUNTRY_CODES = frozenset(country.alpha_3 for country in pycountry.countries)
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "oui", "x"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "non", ""})


def text(limit: int) -> Callable[[str], str]:
    def read(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"is longer than {limit} characters")
        return value

    return read


def choice(choices) -> Callable[[str], str]:
    codes = {code: code for code in choices.values}
    codes.update({str(label).lower(): code for code, label in choices.choices})

    def read(value: str) -> str:
        code = codes.get(value) or codes.get(value.lower())
        if code is None:
            raise ValueError(f"{value!r} is not one of {', '.join(choices.values)}")
        return code

    read.allowed = list(choices.values)  # listed on the import page
    return read


def timestamp(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not a date: write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > datetime.now(UTC):
        raise ValueError(f"{value} is in the future")
    return moment


def number_in(low: float, high: float, name: str) -> Callable[[str], float]:
    def read(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if not low <= number <= high:
            raise ValueError(f"{name} {value} is out of range ({low:g} to {high:g})")
        return number

    return read


def whole_number(low: int, high: int) -> Callable[[str], int]:
    def read(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise ValueError(f"{number} is out of range ({low} to {high})")
        return number

    return read


def yes_no(value: str) -> bool:
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not yes or no")


def country(value: str) -> str:
    code = value.upper()
    if code not in COUNTRY_CODES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-3 country code")
    return code


def releasability(value: str) -> int:
    if value.isdigit() and int(value) in Releasability.values:
        return int(value)
    by_name = {member.name.lower(): member.value for member in Releasability}
    if value.lower() in by_name:
        return by_name[value.lower()]
    raise ValueError(f"{value!r} is not a releasability level (1 to 5)")


@dataclass(frozen=True)
class Column:
    name: str
    read: Callable[[str], object]
    required: bool = False
    default: object = ""
    weapon: bool = False  # describes the row's weapon, not the incident


COLUMNS = [
    Column("external_reference", text(100), required=True),
    Column("occurred_at", timestamp, required=True),
    Column("date_precision", choice(DatePrecision), default=DatePrecision.DAY),
    # Either latitude and longitude in decimal degrees, or coordinates in any notation the
    # forms accept (decimal, degrees-minutes-seconds, MGRS).
    Column("latitude", number_in(-90, 90, "latitude"), default=None),
    Column("longitude", number_in(-180, 180, "longitude"), default=None),
    Column("coordinates", text(100)),
    Column("location_precision", choice(LocationPrecision), default=LocationPrecision.EXACT),
    Column("kind", choice(IncidentKind), required=True),
    Column("context", choice(Context), required=True),
    Column("actor_type", choice(ActorType), default=ActorType.UNKNOWN),
    Column("actors", text(300)),
    Column("narrative", text(10_000)),
    Column("source", text(200)),
    Column("source_reliability", choice(SourceReliability), default=SourceReliability.F),
    Column("releasability", releasability, default=Releasability.MISSION_ONLY),
    Column("gbv_link", yes_no, default=False),
    Column("weapon_category", choice(WeaponCategory), weapon=True),
    Column("weapon_make", text(100), weapon=True),
    Column("weapon_model", text(100), weapon=True),
    Column("weapon_calibre", text(40), weapon=True),
    Column("weapon_serial_number", text(60), weapon=True),
    Column("weapon_markings_altered", yes_no, default=False, weapon=True),
    Column("weapon_country_of_manufacture", country, weapon=True),
    Column(
        "weapon_year_of_manufacture",
        whole_number(1850, datetime.now(UTC).year),
        default=None,
        weapon=True,
    ),
    Column("weapon_quantity", whole_number(1, MAX_QUANTITY), default=1, weapon=True),
]
COLUMN_NAMES = [column.name for column in COLUMNS]
REQUIRED = [column.name for column in COLUMNS if column.required]
INCIDENT_COLUMNS = [column for column in COLUMNS if not column.weapon]
WEAPON_COLUMNS = [column for column in COLUMNS if column.weapon]
