"""The IAFQ report's tables against hand-counted records (issue 20: "IAFQ: every table").

MINUSCA, 14 March 2025, all in the Central African Republic (CAF). Verified records:

- alpha_verified_L1, seized, illicit trafficking, criminal context:
  A: assault rifle ×1, make "Izhmash", RUS, serial AK-001 (traced, see below);
  B: assault rifle ×1, make "Acme Arms", CHN, no serial, markings altered;
  C: craft-produced ×3, no serial; E: parts ×2 (two barrels' serials), RUS;
  F: part ×1, "Bolt carrier"; D: pistols ×2, observed only.
- alpha_verified_L3, found (cache), not a seizure, armed conflict: rifles ×4, no serial;
  shotgun ×1, craft, serial S-1 (trace sent, addressee's country not recorded).
- alpha_verified_L5, surrendered, not a seizure, intercommunal: pistol ×1, make
  "kalashnikov concern ", RUS, serial P-9.
- bravo_verified_L4, loss or theft: assault rifles ×5 (never counted).

alpha_verified_L1 documents a route Sudan → Chad → Cameroon → DR Congo by road, 500 live
cartridges (CHN), 40 spent cases and 6 grenades (RUS); alpha_verified_L3 2 mortar bombs.
Traces: A to Russia (forwarded, transit Chad), followed up in CAF (answered: diversion
established, transit Chad and Cameroon; its illicit origin, diversion from State stocks,
names that trace); B to China (answered: diversion established, transit Chad, no origin
recorded); the shotgun's trace is addressed to nobody's country yet. C's illicit manufacture
was established by a competent authority, without a trace. People: on L1 two adult men and
one adult woman (suspects) arrested, one boy (suspect) unharmed; on L4 one man arrested.

A draft (alpha_draft_L1) holds ten rifles with a route, an origin, ammunition and four
arrested people: none of it may count."""

import re
import subprocess
from datetime import date

import hxl
import pytest

from incidents.choices import (
    AgeGroup,
    AmmunitionCategory,
    AmmunitionState,
    Context,
    IncidentKind,
    ManufactureMode,
    OriginKind,
    OriginMethod,
    PersonOutcome,
    PersonRole,
    Recovery,
    SeizureJustification,
    Sex,
    TraceStatus,
    TransportMode,
    WeaponCategory,
)
from incidents.manufacturers import Manufacturer, ManufacturerAlias
from incidents.models import (
    AmmunitionItem,
    IllicitOrigin,
    Incident,
    PersonsInvolved,
    TraceRequest,
    WeaponItem,
)
from reports.models import Report
from reports.services import report_generate, report_request
from tests.personas import build_world

MARCH_2025 = (date(2025, 3, 1), date(2025, 3, 31))
CAF = "Central African Republic (CAF)"


def _weapon(incident, category, quantity=1, **fields):
    return WeaponItem.objects.create(
        incident=incident, category=category, quantity=quantity, **fields
    )


def _trace(weapon, addressee_country, status, **fields):
    return TraceRequest.objects.create(
        weapon=weapon,
        addressee="Ministry of Defence",
        addressee_country=addressee_country,
        sent_on=date(2025, 3, 16),
        status=status,
        **fields,
    )


def _people(incident, role, sex, age, count, outcome=PersonOutcome.UNKNOWN):
    PersonsInvolved.objects.create(
        incident=incident, role=role, sex=sex, age_group=age, count=count, outcome=outcome
    )


def _origin(weapon, method, kind, trace=None):
    return IllicitOrigin.objects.create(
        weapon=weapon,
        method=method,
        kind=kind,
        trace=trace,
        established_by="National commission on SALW",
        established_on=date(2025, 4, 2),
    )


def build_iafq_world():
    world = build_world()
    records = world.records
    kalashnikov, _created = Manufacturer.objects.get_or_create(
        name="Kalashnikov Concern", defaults={"country": "RUS"}
    )
    if not ManufacturerAlias.objects.filter(spelling__iexact="Izhmash").exists():
        ManufacturerAlias.objects.create(manufacturer=kalashnikov, spelling="Izhmash")

    seized = records["alpha_verified_L1"]
    Incident.objects.filter(pk=seized.pk).update(
        seizure_justification=SeizureJustification.ILLICIT_TRAFFICKING,
        context=Context.CRIMINAL,
        route_departure_country="SDN",
        route_transit_countries=["TCD", "CMR"],
        route_destination_country="COD",
        transport_mode=TransportMode.ROAD,
    )
    found = records["alpha_verified_L3"]
    Incident.objects.filter(pk=found.pk).update(
        kind=IncidentKind.CACHE_DISCOVERY,
        seizure_justification=SeizureJustification.NOT_SEIZED,
    )
    surrendered = records["alpha_verified_L5"]
    Incident.objects.filter(pk=surrendered.pk).update(
        kind=IncidentKind.VOLUNTARY_SURRENDER,
        seizure_justification=SeizureJustification.NOT_SEIZED,
        context=Context.INTERCOMMUNAL,
    )
    lost = records["bravo_verified_L4"]
    Incident.objects.filter(pk=lost.pk).update(kind=IncidentKind.LOSS_OR_THEFT)

    factory = {"manufacture_mode": ManufactureMode.FACTORY}
    rifle_a = _weapon(
        seized,
        WeaponCategory.ASSAULT_RIFLE,
        make="Izhmash",
        serial_number="AK-001",
        country_of_manufacture="RUS",
        **factory,
    )
    rifle_b = _weapon(
        seized,
        WeaponCategory.ASSAULT_RIFLE,
        make="Acme Arms",
        markings_altered=True,
        country_of_manufacture="CHN",
        **factory,
    )
    craft = _weapon(seized, WeaponCategory.CRAFT_PRODUCED, 3)
    observed = _weapon(
        seized,
        WeaponCategory.REVOLVER_PISTOL,
        2,
        recovery=Recovery.OBSERVED,
        make="Izhmash",
        country_of_manufacture="RUS",
    )
    _weapon(
        seized,
        WeaponCategory.PART_COMPONENT,
        2,
        country_of_manufacture="RUS",
        component_serials=[
            {"component": "barrel", "serial": "B1"},
            {"component": "barrel", "serial": "B2"},
        ],
    )
    _weapon(seized, WeaponCategory.PART_COMPONENT, 1, model="Bolt carrier")
    _weapon(found, WeaponCategory.RIFLE_CARBINE, 4, **factory)
    shotgun = _weapon(
        found, WeaponCategory.SHOTGUN, serial_number="S-1", manufacture_mode=ManufactureMode.CRAFT
    )
    _weapon(
        surrendered,
        WeaponCategory.REVOLVER_PISTOL,
        make="kalashnikov concern ",
        serial_number="P-9",
        country_of_manufacture="RUS",
        **factory,
    )
    _weapon(lost, WeaponCategory.ASSAULT_RIFLE, 5, **factory)

    to_manufacturer = _trace(rifle_a, "RUS", TraceStatus.FORWARDED, transit_countries=["TCD"])
    to_importer = _trace(
        rifle_a,
        "CAF",
        TraceStatus.ANSWERED,
        follows=to_manufacturer,
        answered_on=date(2025, 3, 28),
        diversion_established=True,
        diversion_country="CAF",
        transit_countries=["TCD", "CMR"],
    )
    _trace(
        rifle_b,
        "CHN",
        TraceStatus.ANSWERED,
        answered_on=date(2025, 3, 29),
        diversion_established=True,
        diversion_country="SDN",
        transit_countries=["TCD"],
    )
    _trace(shotgun, "", TraceStatus.SENT)
    _origin(rifle_a, OriginMethod.TRACE, OriginKind.STATE_STOCKS, trace=to_importer)
    _origin(craft, OriginMethod.AUTHORITY_FINDING, OriginKind.ILLICIT_MANUFACTURE)
    _origin(observed, OriginMethod.AUTHORITY_FINDING, OriginKind.ILLICIT_IMPORT)

    for incident, category, state, country, quantity in (
        (seized, AmmunitionCategory.SMALL_ARMS_CARTRIDGE, AmmunitionState.LIVE, "CHN", 500),
        (seized, AmmunitionCategory.SMALL_ARMS_CARTRIDGE, AmmunitionState.SPENT, "", 40),
        (seized, AmmunitionCategory.GRENADE, AmmunitionState.LIVE, "RUS", 6),
        (found, AmmunitionCategory.MORTAR_BOMB, AmmunitionState.LIVE, "", 2),
    ):
        AmmunitionItem.objects.create(
            incident=incident,
            calibre="7.62x39mm",
            category=category,
            state=state,
            country_of_manufacture=country,
            quantity=quantity,
        )

    arrested = PersonOutcome.ARRESTED
    _people(seized, PersonRole.SUSPECT, Sex.MALE, AgeGroup.ADULT, 2, arrested)
    _people(seized, PersonRole.SUSPECT, Sex.FEMALE, AgeGroup.ADULT, 1, arrested)
    _people(seized, PersonRole.SUSPECT, Sex.MALE, AgeGroup.CHILD, 1, PersonOutcome.UNHARMED)
    _people(surrendered, PersonRole.SURRENDERING, Sex.MALE, AgeGroup.ADULT, 1)
    _people(lost, PersonRole.SUSPECT, Sex.MALE, AgeGroup.ADULT, 1, arrested)

    # The draft: everything that could count, counted nowhere.
    draft = records["alpha_draft_L1"]
    Incident.objects.filter(pk=draft.pk).update(
        seizure_justification=SeizureJustification.ILLICIT_TRAFFICKING,
        route_departure_country="SDN",
        route_destination_country="CAF",
    )
    drafted = _weapon(draft, WeaponCategory.ASSAULT_RIFLE, 10, make="Izhmash", **factory)
    _weapon(draft, WeaponCategory.PART_COMPONENT, 5)
    _origin(drafted, OriginMethod.INVESTIGATION, OriginKind.ILLICIT_IMPORT)
    AmmunitionItem.objects.create(
        incident=draft, calibre="9mm", category=AmmunitionCategory.GRENADE, quantity=100
    )
    _people(draft, PersonRole.SUSPECT, Sex.FEMALE, AgeGroup.CHILD, 4, arrested)
    traced_draft = _weapon(draft, WeaponCategory.REVOLVER_PISTOL, serial_number="D-1")
    _trace(traced_draft, "CAF", TraceStatus.SENT, transit_countries=["NER"])
    return world


def generate(user, **options) -> Report:
    report = report_request(
        requester=user,
        template="iafq",
        scope_kind="mission",
        scope="MINUSCA",
        period_start=MARCH_2025[0],
        period_end=MARCH_2025[1],
        options=options,
    )
    report_generate(report_id=report.pk, worker="test")
    report.refresh_from_db()
    assert report.state == Report.State.DONE, report.error
    return report


def table(report: Report, name: str) -> dict:
    return next(t for t in report.tables if t["name"] == name)


def rows(report: Report, name: str) -> list[list]:
    return table(report, name)["rows"]


@pytest.fixture(autouse=True)
def _files_in_a_temporary_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    # The hand counts, as counted: small-cell suppression off (threshold 1). The counts of
    # people suppressed are tested in tests/test_suppression_everywhere.py.
    settings.SMALL_CELL_THRESHOLD = 1


@pytest.fixture
def iafq_world(db):
    return build_iafq_world()


@pytest.fixture
def admin_report(iafq_world):
    """The administrator's report: gender-disaggregated figures included."""
    return generate(iafq_world.users["admin"], significant_seizure_min_arms=5)


def test_arms_by_type_justification_and_context_count_recovered_arms_of_verified_records(
    admin_report,
):
    assert rows(admin_report, "iafq_arms_seized_found_surrendered") == [
        [CAF, 2025, "Rifles and carbines", 0, 4, 0, 4],
        [CAF, 2025, "Craft-produced weapons", 3, 0, 0, 3],
        [CAF, 2025, "Parts and components", 3, 0, 0, 3],
        [CAF, 2025, "Assault rifles", 2, 0, 0, 2],
        [CAF, 2025, "Revolvers and self-loading pistols", 0, 0, 1, 1],
        [CAF, 2025, "Shotguns", 0, 1, 0, 1],
    ]
    # Arms: parts and components apart, observed-only pistols and the draft's rifles never.
    assert rows(admin_report, "iafq_arms_by_justification") == [
        [CAF, 2025, "Not a seizure (found or surrendered)", 0, 5, 1, 6],
        [CAF, 2025, "Illicit trafficking", 5, 0, 0, 5],
    ]
    assert rows(admin_report, "iafq_arms_by_context") == [
        [CAF, 2025, "Armed conflict", 0, 5, 0, 5],
        [CAF, 2025, "Criminal / gang", 5, 0, 0, 5],
        [CAF, 2025, "Intercommunal", 0, 0, 1, 1],
    ]


def test_arms_by_country_of_manufacture_make_way_of_manufacture_and_marking(admin_report):
    made_in = table(admin_report, "iafq_arms_by_country_made")
    assert made_in["rows"] == [
        [CAF, 2025, "Unknown", 3, 5, 0, 8],
        [CAF, 2025, "Russian Federation (RUS)", 1, 0, 1, 2],
        [CAF, 2025, "China (CHN)", 1, 0, 0, 1],
    ]
    assert "not where it was diverted" in made_in["note"]
    # "Izhmash" and "kalashnikov concern " are the listed manufacturer; "Acme Arms" is not.
    assert rows(admin_report, "iafq_arms_by_make") == [
        [CAF, 2025, "Unknown", 3, 5, 0, 8],
        [CAF, 2025, "Kalashnikov Concern", 1, 0, 1, 2],
        [CAF, 2025, "Acme Arms (not in the list)", 1, 0, 0, 1],
    ]
    # The craft-produced category without a way of manufacture is craft.
    assert rows(admin_report, "iafq_arms_by_manufacture_mode") == [
        [CAF, 2025, "Factory-made", 2, 4, 1, 7],
        [CAF, 2025, "Craft-produced", 3, 1, 0, 4],
    ]
    assert rows(admin_report, "iafq_arms_by_marking") == [
        [CAF, 2025, "Unmarked (no serial number)", 3, 4, 0, 7],
        [CAF, 2025, "Serial number present", 1, 1, 1, 3],
        [CAF, 2025, "Markings altered or obliterated", 1, 0, 0, 1],
    ]


def test_parts_by_component_and_ammunition_by_kind_never_added_together(admin_report):
    assert rows(admin_report, "iafq_parts_components") == [
        [CAF, 2025, "Barrel", "Russian Federation (RUS)", 2, 0, 0, 2],
        [CAF, 2025, "Bolt carrier", "Unknown", 1, 0, 0, 1],
    ]
    assert rows(admin_report, "iafq_ammunition") == [
        [CAF, 2025, "Small-arms cartridges", "Live", "China (CHN)", 500, 0, 0, 500],
        [CAF, 2025, "Small-arms cartridges", "Spent (cases, fired)", "Unknown", 40, 0, 0, 40],
        [
            CAF,
            2025,
            "Grenades (hand or rifle)",
            "Live",
            "Russian Federation (RUS)",
            6,
            0,
            0,
            6,
        ],
        [CAF, 2025, "Mortar bombs", "Live", "Unknown", 0, 2, 0, 2],
    ]


def test_routes_documented_and_transit_countries_of_traces_count_each_weapon_once(
    admin_report,
):
    assert rows(admin_report, "iafq_routes") == [
        [
            CAF,
            2025,
            "Sudan (SDN)",
            "Chad (TCD) → Cameroon (CMR)",
            "Democratic Republic of the Congo (COD)",
            1,
            5,
        ]
    ]
    # Rifle A's two traces both name Chad: it counts once there.
    assert rows(admin_report, "iafq_trace_transit_countries") == [
        [CAF, 2025, "Chad (TCD)", 1, 2],
        [CAF, 2025, "Cameroon (CMR)", 1, 1],
    ]


def test_tracing_domestic_and_international_by_status_and_origins_by_kind(admin_report):
    # 14 recovered items (parts included, as SDG 16.4.2 reads them); 3 with a trace, 2
    # traced to their point of diversion.
    assert rows(admin_report, "iafq_tracing_results") == [[CAF, 2025, 14, 3, 2, 12]]
    assert rows(admin_report, "iafq_trace_requests") == [
        [CAF, 2025, "Domestic", "Answered: traced", 1, 1],
        [CAF, 2025, "International", "Answered: traced", 1, 0],
        [CAF, 2025, "International", "Forwarded to another State or manufacturer", 1, 0],
        [CAF, 2025, "Addressee's country not recorded", "Sent", 1, 0],
    ]
    # Each weapon once: rifle A by its origin (the domestic follow-up), rifle B by its trace
    # (no origin recorded), the craft weapons by an authority's finding, without a trace.
    assert rows(admin_report, "iafq_illicit_origins") == [
        [CAF, 2025, "Illicit manufacture", "Finding of a competent authority", 3],
        [CAF, 2025, "Not recorded", "International trace", 1],
        [CAF, 2025, "Diversion from State stocks", "Domestic trace", 1],
    ]


def test_significant_seizures_with_makes_routes_and_persons(iafq_world, admin_report):
    seized = iafq_world.records["alpha_verified_L1"].pk
    found = iafq_world.records["alpha_verified_L3"].pk
    significant = rows(admin_report, "iafq_significant_seizures")
    assert [row[0] for row in significant] == [seized, found]
    assert significant[0][5:] == [
        "Seized",
        "Criminal / gang",
        5,
        "Assault rifles, Craft-produced weapons",
        "Acme Arms (not in the list); Kalashnikov Concern",
        3,  # parts and components, not arms
        500,  # live cartridges: neither the spent cases nor the grenades
        2,
        "Sudan (SDN)",
        "Chad (TCD) → Cameroon (CMR)",
        "Democratic Republic of the Congo (COD)",
        "Road vehicle",
        4,
        3,
    ]
    assert significant[1][5:] == [
        "Found",
        "Armed conflict",
        5,
        "Rifles and carbines, Shotguns",
        "",
        0,
        0,
        1,
        "",
        "",
        "",
        "Unknown",
        0,
        0,
    ]
    assert rows(admin_report, "iafq_significant_persons") == [
        [seized, "Suspect", "Female", "Adult", 1, 1],
        [seized, "Suspect", "Male", "Adult", 2, 2],
        [seized, "Suspect", "Male", "Child (under 18)", 1, 0],
    ]


def test_parts_do_not_make_a_seizure_significant_and_empty_tables_say_no_data(iafq_world):
    # Alpha's seizure has 5 arms and 3 parts: at 6 arms it is no significant seizure.
    report = generate(iafq_world.users["admin"], significant_seizure_min_arms=6)
    for name in ("iafq_significant_seizures", "iafq_significant_persons"):
        assert rows(report, name) == []
        assert "No data" in table(report, name)["note"]


def test_criminal_justice_counts_arrests_and_says_what_the_mission_does_not_record(
    iafq_world, admin_report
):
    assert rows(admin_report, "iafq_criminal_justice") == [
        [CAF, 2025, "Female", "Adult", 1],
        [CAF, 2025, "Male", "Adult", 3],
    ]
    assert rows(admin_report, "iafq_criminal_justice_stages") == [
        ["Arrested or detained", 4, "Mission records: people involved, arrested or detained"],
        [
            "Prosecuted",
            "",
            "Not recorded by the mission: the host State's courts hold these records.",
        ],
        [
            "Convicted",
            "",
            "Not recorded by the mission: the host State's courts hold these records.",
        ],
    ]
    # A reader without gender-disaggregated figures gets the same arrests, all together.
    analyst = generate(iafq_world.users["mission_analyst"], significant_seizure_min_arms=5)
    assert rows(analyst, "iafq_criminal_justice") == [[CAF, 2025, "All", "All", 4]]
    assert rows(analyst, "iafq_significant_persons") == [
        [iafq_world.records["alpha_verified_L1"].pk, "Suspect", "All", "All", 4, 3]
    ]
    assert rows(analyst, "iafq_arms_by_make") == rows(admin_report, "iafq_arms_by_make")


@pytest.mark.django_db
def test_a_period_without_records_prints_no_data_rather_than_zeros():
    iafq_world = build_world()  # records, but no weapons, ammunition or people
    report = generate(iafq_world.users["admin"])
    for each in report.tables:
        if each["name"].startswith("iafq_") and each["name"] != "iafq_criminal_justice_stages":
            assert each["rows"] == [], each["name"]
            assert "No data" in each["note"], each["name"]
    assert rows(report, "iafq_criminal_justice_stages")[0] == [
        "Arrested or detained",
        "",
        "no data",
    ]


def test_the_pdf_shows_every_iafq_table_title(admin_report):
    pdf = admin_report.files.get(file_format="pdf")
    text = subprocess.run(
        ["pdftotext", pdf.file.path, "-"], capture_output=True, text=True, check=True
    ).stdout
    text = re.sub(r"\s+", " ", text)
    for each in admin_report.tables:
        if each["name"].startswith("iafq_"):
            assert re.sub(r"\s+", " ", each["title"]) in text, each["title"]
    for title in (
        "Arms by legal justification of the seizure",
        "Arms by country of manufacture",
        "Parts and components",
        "Routes documented by the seizures",
        "Trace requests, domestic and international, by status",
        "Illicit origins established, by kind",
        "Significant seizures: persons involved",
        "Persons arrested or detained",
    ):
        assert title in text
    assert "Not recorded by the mission" in text


def test_every_iafq_hxl_csv_passes_libhxl_validation_with_rows_in_every_table(iafq_world):
    from tests.test_reports_hxl import documented_attributes, hashtag_problems, validation_errors

    report = generate(iafq_world.users["admin"], significant_seizure_min_arms=5, hxl=True)
    documented, problems, validated = documented_attributes(), [], set()
    for file in report.files.filter(file_format="csv", name__startswith="iafq_"):
        with hxl.data(file.file.path, hxl.InputOptions(allow_local=True)) as dataset:
            problems += hashtag_problems(file.name, dataset, documented)
            if any(True for _row in dataset):
                validated.add(file.name.removesuffix(".csv"))
        problems += validation_errors(file.name, file.file.path)
    assert problems == [], "\n".join(problems)
    assert validated == {t["name"] for t in report.tables if t["name"].startswith("iafq_")}
    # The route's transit countries, one per cell, codes apart from names.
    with hxl.data(
        report.files.get(name="iafq_routes.csv").file.path, hxl.InputOptions(allow_local=True)
    ) as dataset:
        tags = [column.display_tag for column in dataset.columns]
        assert tags.count("#country+code+transit") == 2
        assert [row.get("#country+code+transit") for row in dataset] == ["TCD"]
