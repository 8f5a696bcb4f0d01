"""The columns of an incident import file: what each may hold, as SQL checks and casts.

One row is one incident, or one weapon of an incident: rows with the same
`external_reference` make one incident (their incident columns must agree), each adding the
weapon its weapon columns describe. Cells are checked in PostgreSQL, all rows at once
(incidents/imports/importer.py); each column says how, in the words the spreadsheet's author will
read.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pycountry

from incidents.choices import (
    ActorType,
    AlterationMethod,
    Condition,
    Context,
    DatePrecision,
    GbvType,
    IncidentKind,
    InformationCredibility,
    LocationPrecision,
    ManufactureMode,
    MarkLocation,
    OriginKind,
    OriginMethod,
    Recovery,
    SeizureJustification,
    SourceReliability,
    SourceType,
    TransportMode,
    WeaponCategory,
    WeaponComponent,
)
from incidents.component_serials import MOST_COMPONENTS, SERIAL_LENGTH
from organisations.choices import Releasability

MAX_QUANTITY = 100_000
NUMBER = r"^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)$"
WHOLE_NUMBER = r"^[+-]?[0-9]{1,9}$"
# ISO 8601 dates, and dates and times, that PostgreSQL casts; day-of-month is checked apart.
DATE = r"^(1[89]|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
TIMESTAMP = (
    r"^(1[89]|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?)?"
    r"(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$"
)
# A cell starting with one of these is read as a formula by spreadsheet programs: exports
# write such text with a leading ' (as spreadsheets do), and imports take it off again.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# One `component: serial` of a component_serials cell (incidents/component_serials.py), the
# cell trimmed: components by their code, entries separated by semicolons or new lines.
COMPONENT_SERIAL = rf"^({'|'.join(WeaponComponent.values)})\s*:\s*[^:]{{1,{SERIAL_LENGTH}}}$"
COMPONENT_SEPARATORS = r"[;\n]"
COUNTRY_SEPARATORS = r"[;,[:space:]]+"
YES = ("yes", "y", "true", "1", "oui", "x")
NO = ("no", "n", "false", "0", "non", "")


def _choice_map(choices) -> str:
    """Accepted spellings (the code, or the English label, any case) → code, as JSON."""
    accepted = {code.lower(): code for code in choices.values}
    accepted.update({str(label).lower(): code for code, label in choices.choices})
    return json.dumps(accepted)


@dataclass(frozen=True)
class Column:
    name: str
    # text, choice, timestamp, date, number, whole_number, yes_no, country, country_list,
    # component_serials
    kind: str
    required: bool = False
    weapon: bool = False  # describes the row's weapon, not the incident
    limit: int = 0  # text: longest value
    low: float = 0  # number, whole_number: range
    high: float = 0
    choices: str = ""  # choice: JSON of accepted spelling → code
    allowed: list[str] = field(default_factory=list)  # choice: codes, listed on the page
    default: str = ""  # SQL literal used when the cell is empty
    # Of the weapon's illicit origin (incidents/origins.py), not of the weapon itself.
    origin: bool = False
    # Required when any origin column of the row is filled.
    needed_by_origin: bool = False


def choice(name, choices, default=None, **options) -> Column:
    return Column(
        name,
        "choice",
        choices=_choice_map(choices),
        allowed=list(choices.values),
        default=f"'{default}'" if default else "''",
        **options,
    )


THIS_YEAR = datetime.now(UTC).year
COLUMNS = [
    Column("external_reference", "text", required=True, limit=100),
    Column("occurred_at", "timestamp", required=True),
    choice("date_precision", DatePrecision, DatePrecision.DAY),
    # Either latitude and longitude in decimal degrees, or coordinates in any notation the
    # forms accept (decimal, degrees-minutes-seconds, MGRS), read in Python.
    Column("latitude", "number", low=-90, high=90, default="NULL"),
    Column("longitude", "number", low=-180, high=180, default="NULL"),
    Column("coordinates", "text", limit=100),
    choice("location_precision", LocationPrecision, LocationPrecision.EXACT),
    # Optional: the country the author knows the point is in, checked against the point
    # within the border tolerance (geo/core/borders.py); empty, it is derived from the point.
    Column("country", "country"),
    # yes: the author confirms a point the import doubts (0, 0; swapped; outside the
    # mission's area or host countries), which is otherwise refused (geo/core/borders.py).
    Column("location_confirmed", "yes_no", default="false"),
    choice("kind", IncidentKind, required=True),
    choice("context", Context, required=True),
    choice("actor_type", ActorType, ActorType.UNKNOWN),
    Column("actors", "text", limit=300),
    Column("narrative", "text", limit=10_000),
    Column("source", "text", limit=200),
    choice("source_type", SourceType, SourceType.UNKNOWN),
    choice("source_reliability", SourceReliability, SourceReliability.F),
    choice(
        "information_credibility",
        InformationCredibility,
        InformationCredibility.CANNOT_BE_JUDGED,
    ),
    Column(
        "releasability",
        "whole_number",
        low=Releasability.MISSION_ONLY,
        high=Releasability.PUBLIC_AGGREGATES,
        default=str(Releasability.MISSION_ONLY.value),
    ),
    Column("gbv_link", "yes_no", default="false"),
    choice("gbv_type", GbvType),
    choice("seizure_justification", SeizureJustification, SeizureJustification.UNKNOWN),
    choice("transport_mode", TransportMode, TransportMode.UNKNOWN),
    Column("route_departure_country", "country"),
    # Codes in the order crossed, separated by semicolons, commas or spaces.
    Column("route_transit_countries", "country_list", limit=20, default="'{}'::text[]"),
    Column("route_destination_country", "country"),
    choice("weapon_category", WeaponCategory, weapon=True),
    choice("weapon_recovery", Recovery, Recovery.RECOVERED, weapon=True),
    choice("weapon_manufacture_mode", ManufactureMode, ManufactureMode.UNKNOWN, weapon=True),
    Column("weapon_make", "text", limit=100, weapon=True),
    Column("weapon_model", "text", limit=100, weapon=True),
    Column("weapon_calibre", "text", limit=40, weapon=True),
    Column("weapon_serial_number", "text", limit=60, weapon=True),
    Column("weapon_markings_altered", "yes_no", default="false", weapon=True),
    Column("weapon_country_of_manufacture", "country", weapon=True),
    Column(
        "weapon_year_of_manufacture",
        "whole_number",
        low=1850,
        high=THIS_YEAR,
        default="NULL",
        weapon=True,
    ),
    Column("weapon_quantity", "whole_number", low=1, high=MAX_QUANTITY, default="1", weapon=True),
    Column("weapon_factory_markings", "text", limit=200, weapon=True),
    Column("weapon_import_markings", "text", limit=200, weapon=True),
    Column("weapon_other_markings", "text", limit=10_000, weapon=True),
    choice("weapon_condition", Condition, Condition.UNKNOWN, weapon=True),
    choice("weapon_alteration_location", MarkLocation, weapon=True),
    choice("weapon_alteration_method", AlterationMethod, weapon=True),
    Column("weapon_restored_serial_number", "text", limit=60, weapon=True),
    Column("weapon_import_country", "country", weapon=True),
    Column(
        "weapon_import_year", "whole_number", low=1850, high=THIS_YEAR, default="NULL", weapon=True
    ),
    Column("weapon_state_ownership_mark", "text", limit=100, weapon=True),
    Column(
        "weapon_component_serials",
        "component_serials",
        limit=MOST_COMPONENTS,
        default="'[]'::jsonb",
        weapon=True,
    ),
    # The weapon's illicit origin established without a trace request on the platform
    # (incidents/origins.py): a competent authority's finding, an investigation, marking
    # evidence, or a trace whose request is held elsewhere. Not its point of diversion,
    # which is recorded on the record's page or through the API.
    choice("weapon_origin_method", OriginMethod, weapon=True, origin=True, needed_by_origin=True),
    choice("weapon_origin_kind", OriginKind, weapon=True, origin=True, needed_by_origin=True),
    Column("weapon_origin_diversion_country", "country", weapon=True, origin=True),
    Column("weapon_origin_diversion_date", "date", default="NULL", weapon=True, origin=True),
    Column(
        "weapon_origin_established_by",
        "text",
        limit=200,
        weapon=True,
        origin=True,
        needed_by_origin=True,
    ),
    Column(
        "weapon_origin_established_on",
        "date",
        default="NULL",
        weapon=True,
        origin=True,
        needed_by_origin=True,
    ),
    Column("weapon_origin_notes", "text", limit=10_000, weapon=True, origin=True),
]
COLUMN_NAMES = [column.name for column in COLUMNS]
REQUIRED = [column.name for column in COLUMNS if column.required]
INCIDENT_COLUMNS = [column for column in COLUMNS if not column.weapon]
WEAPON_COLUMNS = [column for column in COLUMNS if column.weapon]
ORIGIN_COLUMNS = [column for column in COLUMNS if column.origin]
# Columns that exports write and imports ignore, so that an export goes back in as it is
# (incidents/exports.py). Each says something the importing contingent cannot decide: who
# holds the record, its state, what the database derived. `weapon_id` also tells apart two
# identical weapons of one incident, which would otherwise be refused as a repeated row.
OUTPUT_ONLY_COLUMNS = [
    "id",
    "weapon_id",
    "location_is_exact",
    "mission",
    "contingent",
    "state",
    "weapon_disposition",
    "updated_at",
]
COUNTRY_CODES = sorted(country.alpha_3 for country in pycountry.countries)
