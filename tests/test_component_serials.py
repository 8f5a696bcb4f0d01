"""Serial numbers of a weapon's parts (issue 19; ISACS 05.30): kept on the weapon's record
in one vocabulary of components, written the same way in the entry form, the import file,
the API and the export, sent with the weapon's trace requests, and refused with the entry
named when they do not hold."""

import csv
import importlib
import io
from datetime import date

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import translation

from incidents.component_serials import (
    component_serials_as_text,
    component_serials_from_text,
)
from incidents.forms import WeaponFormSet
from incidents.models import TraceRequest, WeaponItem
from incidents.services import trace_request_send
from tests.test_api_writes import body, created, post
from tests.test_import import HEADER, csv_file, run_import

pytestmark = pytest.mark.usefixtures("countries_110m")  # before `world`: its records fall in them

PARTS = [{"component": "barrel", "serial": "B5600001"}, {"component": "bolt", "serial": "5600001"}]


# --- the text form ----------------------------------------------------------------------


def test_text_is_read_by_code_or_label_in_any_case_and_written_back_the_same():
    assert component_serials_from_text("barrel: B5600001; BOLT : 5600001") == PARTS
    assert component_serials_from_text("Barrel: B5600001\n\nBolt or breech block:5600001") == (
        PARTS
    )
    with translation.override("fr"):
        assert component_serials_from_text("Canon: B5600001; culasse: 5600001") == PARTS
    assert component_serials_from_text(component_serials_as_text(PARTS)) == PARTS
    assert component_serials_from_text("  ") == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("barrel: B1; stock: S2", "Entry 2 (stock: S2)"),
        ("barrel B1", "Entry 1 (barrel B1)"),
        ("frame:", "Entry 1 (frame:)"),
        ("barrel: " + "9" * 61, "at most 60"),
        ("; ".join(f"other: {number}" for number in range(21)), "at most 20"),
    ],
)
def test_text_that_does_not_hold_is_refused_naming_the_entry(text, says):
    with pytest.raises(ValidationError) as refusal:
        component_serials_from_text(text)

    assert says in " ".join(refusal.value.messages)


# --- entry form, API, import, trace request ---------------------------------------------------


def _formset(incident, serials: str) -> WeaponFormSet:
    data = {
        "weapons-TOTAL_FORMS": "1",
        "weapons-INITIAL_FORMS": "0",
        "weapons-0-category": "assault_rifle",
        "weapons-0-quantity": "1",
        "weapons-0-condition": "unknown",
        "weapons-0-disposition": "held",
        "weapons-0-component_serials": serials,
    }
    return WeaponFormSet(data, instance=incident, prefix="weapons")


def test_the_entry_form_keeps_the_serials_and_names_a_bad_entry(world):
    incident = world.records["alpha_draft_L1"]

    formset = _formset(incident, "barrel: B5600001\nbolt: 5600001")
    assert formset.is_valid(), formset.errors
    [weapon] = formset.save()
    weapon.refresh_from_db()
    assert weapon.component_serials == PARTS

    refused = _formset(incident, "barrel: B1\nmagazine: M2")
    assert not refused.is_valid()
    assert "Entry 2 (magazine: M2)" in refused.errors[0]["component_serials"][0]


def test_the_api_writes_and_reads_them_and_names_a_bad_component(client, world):
    data = body(world)
    data["weapons"][1]["component_serials"] = PARTS

    response = post(client, world, "reporter_alpha", data)

    assert response.status_code == 201, response.content
    weapon = WeaponItem.objects.get(incident__in=created(world), make="Makarov")
    assert weapon.component_serials == PARTS
    [read] = [
        row
        for row in client.get(f"/api/v1/weapons?incident={weapon.incident_id}").json()["results"]
        if row["id"] == weapon.id
    ]
    assert read["component_serials"] == PARTS

    bad = body(world)
    bad["weapons"][0]["component_serials"] = [{"component": "stock", "serial": "S1"}]
    refused = post(client, world, "reporter_alpha", bad, key="key-2")
    assert refused.status_code == 400
    assert any(field.startswith("weapons[0].component_serials") for field in refused.json())
    assert len(created(world)) == 1


def _row(serials: str) -> list[str]:
    return [
        "CS-001",
        "2025-06-01T08:30",
        "4.394",
        "18.558",
        "checkpoint_seizure",
        "criminal",
        "1",
        "assault_rifle",
        "Norinco",
        "5600001",
        "1",
        serials,
    ]


def test_the_import_reads_the_column_and_refuses_a_bad_cell_by_row_and_column(world):
    header = [*HEADER, "weapon_component_serials"]

    report = run_import(world, csv_file([_row("barrel: B5600001; BOLT : 5600001")], header))

    assert report.ok, report.as_dict()
    assert WeaponItem.objects.get(serial_number="5600001").component_serials == PARTS

    before = WeaponItem.objects.count()
    refused = run_import(
        world, csv_file([_row("barrel: B1"), _row("barrel: B2; magazine: M9")], header)
    )
    assert not refused.ok
    assert [(problem.row, problem.column) for problem in refused.problems] == [
        (3, "weapon_component_serials")
    ]
    assert "'magazine: M9'" in refused.problems[0].message
    assert WeaponItem.objects.count() == before


def test_a_trace_request_sends_the_weapons_component_serials_unless_told_otherwise(world):
    weapon = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L1"],
        category="assault_rifle",
        make="Norinco",
        serial_number="5600001",
        component_serials=PARTS,
    )

    def send(**fields) -> TraceRequest:
        return trace_request_send(
            weapon=weapon,
            by=world.users["verifier"],
            addressee="China",
            sent_on=date(2025, 4, 1),
            **fields,
        )

    assert send().component_serials == PARTS
    only_the_barrel = [PARTS[0]]
    assert send(component_serials=only_the_barrel).component_serials == only_the_barrel


def test_the_migration_turns_free_text_components_into_codes(world):
    weapon = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L1"], category="pistol", serial_number="P1"
    )
    trace = TraceRequest.objects.create(weapon=weapon, addressee="X", sent_on=date(2025, 1, 1))
    # Written as requests were before the vocabulary: free text, skipping validation.
    TraceRequest.objects.filter(pk=trace.pk).update(
        component_serials=[
            {"component": "Receiver", "serial": "R1"},
            {"component": "barrel", "serial": "B1"},
            {"component": "gas tube", "serial": "G1"},
        ]
    )
    migration = importlib.import_module("incidents.migrations.0025_weapon_component_serials")

    migration.components_as_codes(apps, None)

    trace.refresh_from_db()
    assert trace.component_serials == [
        {"component": "frame", "serial": "R1"},
        {"component": "barrel", "serial": "B1"},
        {"component": "other", "serial": "G1"},
    ]


def test_the_export_writes_them_as_the_import_reads_them(client, world):
    weapon = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L1"],
        category="assault_rifle",
        serial_number="5600001",
        component_serials=PARTS,
    )
    client.force_login(world.users["verifier"])

    response = client.get("/api/v1/incidents/export.csv")

    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = [
        row
        for row in csv.DictReader(io.StringIO(content.decode()))
        if row["weapon_id"] == str(weapon.id)
    ]
    assert [row["weapon_component_serials"] for row in rows] == ["barrel: B5600001; bolt: 5600001"]
    assert component_serials_from_text(rows[0]["weapon_component_serials"]) == PARTS
