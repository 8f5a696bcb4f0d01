"""The number of queries each list, detail and export reads is pinned (issue 25; as NetBox
pins its `query_counts.json`), for a reader who sees everything and one whom the access
policy narrows, and it does not grow with the records: the same page of a table five
records longer, each with weapons, traces, an origin, ammunition and people, reads as
many queries.

A change that adds a query on purpose updates the file:
`UPDATE_QUERY_COUNTS=1 make test ARGS=tests/test_query_counts.py`. (The map and the
dashboard pin theirs in tests/test_geo_endpoints.py and tests/test_dashboard.py.)"""

import json
import os
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import (
    AmmunitionItem,
    IllicitOrigin,
    Incident,
    PersonsInvolved,
    RegistryEntry,
    RegistrySerial,
    TraceRequest,
    WeaponItem,
)
from incidents.registry.hits import hits_check

PINNED = Path(__file__).with_name("query_counts.json")
PERSONAS = ("admin", "mission_analyst")
# (name, path); {incident}, {weapon} and {trace} are one of the records' ids.
ENDPOINTS = [
    ("records list page", "/incidents/"),
    ("record page", "/incidents/{incident}/"),
    ("API incidents", "/api/v1/incidents"),
    ("API incident", "/api/v1/incidents/{incident}"),
    ("API weapons", "/api/v1/weapons"),
    ("API weapon", "/api/v1/weapons/{weapon}"),
    ("API ammunition", "/api/v1/ammunition"),
    ("API trace requests", "/api/v1/trace-requests"),
    ("API trace request", "/api/v1/trace-requests/{trace}"),
    ("API illicit origins", "/api/v1/illicit-origins"),
    ("CSV export", "/api/v1/incidents/export.csv"),
    ("XLSX export", "/api/v1/incidents/export.xlsx"),
    ("GeoJSON export", "/api/v1/incidents/export.geojson"),
    ("OGC items", "/ogc/collections/incidents/items"),
    ("registry page", "/incidents/registry/"),
    ("hits page", "/incidents/hits/"),
    ("API serial search", "/api/v1/weapons/search?serial=Q0"),
]


def _add_records(world, count: int) -> None:
    """`count` verified MINUSCA records, each with two weapons (one traced, with an
    origin), ammunition and people."""
    template = world.records["alpha_verified_L1"]
    for number in range(count):
        incident = Incident.objects.create(
            kind=template.kind,
            context=template.context,
            occurred_at=template.occurred_at,
            location=template.location,
            country=template.country,
            mission=template.mission,
            contingent=template.contingent,
            state=template.state,
            releasability=template.releasability,
        )
        traced, _other = WeaponItem.objects.bulk_create(
            [
                WeaponItem(incident=incident, category="assault_rifle", serial_number=f"Q{number}"),
                WeaponItem(incident=incident, category="pistol", make="Makarov"),
            ]
        )
        trace = TraceRequest.objects.create(
            weapon=traced, addressee="CHN", sent_on=date(2025, 4, 1)
        )
        IllicitOrigin.objects.create(
            weapon=traced,
            method="trace",
            trace=trace,
            kind="state_stocks",
            established_by="Panel",
            established_on=date(2025, 5, 1),
        )
        AmmunitionItem.objects.create(incident=incident, calibre="7.62x39mm", quantity=30)
        PersonsInvolved.objects.create(
            incident=incident, role="suspect", sex="male", age_group="adult", count=1
        )
        # A registry entry that the traced weapon hits (issue 23).
        entry = RegistryEntry.objects.create(
            category="assault_rifle",
            circumstance="theft",
            occurred_on=date(2025, 1, 1),
            country=template.country,
            reporting_body_kind="mission",
            reporting_body="MINUSCA",
            contact="x",
            mission=template.mission,
            releasability=template.releasability,
        )
        RegistrySerial.objects.create(entry=entry, component="frame", serial=f"Q{number}")
    hits_check()


def _ids(world) -> dict[str, int]:
    weapon = WeaponItem.objects.filter(incident=world.records["alpha_verified_L1"]).first()
    return {
        "incident": world.records["alpha_verified_L1"].pk,
        "weapon": weapon.pk,
        "trace": TraceRequest.objects.filter(weapon=weapon).first().pk,
    }


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, (path, response.status_code)
    return len(queries)


def _counts(client, world) -> dict[str, int]:
    ids = _ids(world)
    counts = {}
    for persona in PERSONAS:
        client.force_login(world.users[persona])
        for name, path in ENDPOINTS:
            counts[f"{persona}: {name}"] = _queries(client, path.format(**ids))
    return counts


def test_every_list_detail_and_export_reads_its_pinned_queries_however_many_records(client, world):
    # The first record's traced weapon, for the detail paths.
    weapon = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L1"], category="assault_rifle", serial_number="P1"
    )
    TraceRequest.objects.create(weapon=weapon, addressee="CHN", sent_on=date(2025, 4, 1))
    _add_records(world, 1)
    counted = _counts(client, world)

    _add_records(world, 5)
    counted_again = _counts(client, world)

    assert counted_again == counted, "a query a record: " + ", ".join(
        f"{name} {counted[name]} → {counted_again[name]}"
        for name in counted
        if counted[name] != counted_again[name]
    )
    if os.environ.get("UPDATE_QUERY_COUNTS"):
        PINNED.write_text(json.dumps(counted, indent=2, sort_keys=True) + "\n")
    pinned = json.loads(PINNED.read_text())
    assert counted == pinned, "changed: " + ", ".join(
        f"{name} {pinned.get(name)} → {counted.get(name)}"
        for name in sorted(set(pinned) | set(counted))
        if pinned.get(name) != counted.get(name)
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_pinned_file_names_every_endpoint_for_every_persona(persona):
    pinned = json.loads(PINNED.read_text())

    assert {f"{persona}: {name}" for name, _path in ENDPOINTS} <= set(pinned)
