"""Exports: built in PostgreSQL, streamed, and unable to smuggle spreadsheet formulas."""

import csv
import io
import json
from datetime import UTC, datetime

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from incidents import exports
from incidents.exports import HEADER
from incidents.imports import columns as import_columns
from incidents.models import Incident
from organisations.models import Contingent, Mission


@pytest.mark.django_db
def test_a_cell_that_starts_like_a_formula_is_exported_as_text(client):
    mission = Mission.objects.create(name="MINUSCA", acronym="MINUSCA")
    contingent = Contingent.objects.create(
        mission=mission,
        name='=HYPERLINK("http://evil.example","x")',
        contributing_country="RWA",
        kind="tcc",
    )
    Incident.objects.create(
        kind="cache_discovery",
        context="other",
        mission=mission,
        contingent=contingent,
        occurred_at=datetime(2025, 1, 2, tzinfo=UTC),
        location=Point(18.5, 4.3),
    )
    client.force_login(get_user_model().objects.create_superuser("admin", password="x"))

    response = client.get("/api/v1/incidents/export.csv")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["contingent"] == "'" + contingent.name
    assert rows[0]["longitude"] == "18.500000"


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", [*import_columns.FORMULA_PREFIXES, "é", "1", " "])
def test_every_formula_prefix_is_defused_in_every_typed_column_and_nothing_else(client, prefix):
    mission = Mission.objects.create(name="Mission", acronym=prefix + "M")
    contingent = Contingent.objects.create(
        mission=mission, name=prefix + "contingent", contributing_country="RWA", kind="tcc"
    )
    Incident.objects.create(
        kind="cache_discovery",
        context="other",
        mission=mission,
        contingent=contingent,
        occurred_at=datetime(2025, 1, 2, tzinfo=UTC),
        location=Point(18.5, 4.3),
        external_reference=prefix + "REF-1",
    )
    client.force_login(get_user_model().objects.create_superuser("admin", password="x"))

    response = client.get("/api/v1/incidents/export.csv")

    row = next(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    guard = "'" if prefix in import_columns.FORMULA_PREFIXES else ""
    assert (row["mission"], row["contingent"], row["external_reference"]) == (
        guard + prefix + "M",
        guard + prefix + "contingent",
        guard + prefix + "REF-1",
    )


def _incident_with_awkward_text():
    mission = Mission.objects.create(name="MINUSCA", acronym="MINUSCA")
    contingent = Contingent.objects.create(
        mission=mission,
        name='-1+1 "quoted", back\\slash\nnew line',
        contributing_country="RWA",
        kind="tcc",
    )
    return Incident.objects.create(
        kind="cache_discovery",
        context="other",
        mission=mission,
        contingent=contingent,
        external_reference="@SUM(A1)",
        occurred_at=datetime(2025, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
        location=Point(-18.1234567, 4.3),
    )


@pytest.mark.django_db
def test_csv_export_has_the_template_columns_then_the_output_only_ones(client):
    incident = _incident_with_awkward_text()
    client.force_login(get_user_model().objects.create_superuser("admin", password="x"))

    response = client.get("/api/v1/incidents/export.csv")

    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[0] == ",".join(HEADER)
    [row] = list(csv.DictReader(io.StringIO(text)))
    incident.refresh_from_db()
    assert row == {
        "id": str(incident.id),
        "external_reference": "'@SUM(A1)",
        "occurred_at": "2025-01-02T03:04:05.600000+00:00",
        "date_precision": "day",
        "latitude": "4.300000",
        "longitude": "-18.123457",
        "location_precision": "exact",
        "country": incident.country,
        "kind": "cache_discovery",
        "context": "other",
        "actor_type": "unknown",
        "actors": "",
        "narrative": "",
        "source": "",
        "source_type": "unknown",
        "source_reliability": "F",
        "information_credibility": "6",
        "releasability": str(incident.releasability),
        "gbv_link": "no",
        "gbv_type": "",
        "seizure_justification": "unknown",
        "transport_mode": "unknown",
        "route_departure_country": "",
        "route_transit_countries": "",
        "route_destination_country": "",
        **{name: "" for name in HEADER if name.startswith("weapon_")},
        "location_is_exact": "True",
        "mission": "MINUSCA",
        "contingent": "'" + incident.contingent.name,
        "state": incident.state,
        "updated_at": incident.updated_at.isoformat(),
    }


@pytest.mark.django_db
def test_geojson_export_is_valid_json_whatever_the_text_holds(client):
    incident = _incident_with_awkward_text()
    client.force_login(get_user_model().objects.create_superuser("admin", password="x"))

    response = client.get("/api/v1/incidents/export.geojson")

    collection = json.loads(b"".join(response.streaming_content))
    [feature] = collection["features"]
    assert feature["id"] == incident.id
    assert feature["geometry"] == {"type": "Point", "coordinates": [-18.123457, 4.3]}
    assert feature["properties"]["contingent"] == "'" + incident.contingent.name
    assert feature["properties"]["occurred_at"] == "2025-01-02T03:04:05.600000+00:00"
    assert feature["properties"]["location_is_exact"] is True
    assert list(feature["properties"]) == [
        name for name in HEADER if name not in ("longitude", "latitude")
    ]


@pytest.mark.django_db
def test_an_export_left_half_read_leaves_the_connection_usable(monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_BYTES", 64)
    mission = Mission.objects.create(name="MINUSCA", acronym="MINUSCA")
    contingent = Contingent.objects.create(
        mission=mission, name="BANBATT", contributing_country="BGD", kind="tcc"
    )
    Incident.objects.bulk_create(
        Incident(
            kind="cache_discovery",
            context="other",
            mission=mission,
            contingent=contingent,
            occurred_at=datetime(2025, 1, 2, tzinfo=UTC),
            location=Point(18.5, 4.3),
        )
        for _ in range(200)
    )
    user = get_user_model().objects.create_superuser("admin", password="x")
    chunks = exports.incidents_csv(Incident.objects.visible_to(user), gender_data=True)

    next(chunks)
    chunks.close()

    assert Incident.objects.count() == 200


@pytest.mark.django_db
@pytest.mark.parametrize("extension", ["csv", "geojson"])
def test_an_export_of_a_filter_that_can_match_nothing_is_empty_not_an_error(client, extension):
    _incident_with_awkward_text()
    client.force_login(get_user_model().objects.create_superuser("admin", password="x"))

    # An unknown regional organisation has no member states: the query can match nothing.
    response = client.get(f"/api/v1/incidents/export.{extension}?region=atlantis")

    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    if extension == "csv":
        assert body.splitlines() == [",".join(HEADER)]
    else:
        assert json.loads(body) == {"type": "FeatureCollection", "features": []}


@pytest.mark.django_db
@pytest.mark.parametrize("extension", ["csv", "geojson", "xlsx"])
def test_gender_data_is_exported_only_to_readers_allowed_it(client, extension):
    from tests.personas import build_world

    world = build_world()
    Incident.objects.update(gbv_link=True, gbv_type="sexual_assault")

    def exported(reader: str) -> list[dict]:
        client.force_login(world.users[reader])
        response = client.get(f"/api/v1/incidents/export.{extension}")
        content = b"".join(response.streaming_content) if response.streaming else b""
        if extension == "csv":
            return list(csv.DictReader(io.StringIO(content.decode())))
        if extension == "geojson":
            return [feature["properties"] for feature in json.loads(content)["features"]]
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        header, *rows = book.active.iter_rows(values_only=True)
        return [dict(zip(header, row, strict=True)) for row in rows]

    wps, analyst = exported("wps_analyst"), exported("mission_analyst")

    assert wps and analyst
    assert {(row["gbv_link"], row["gbv_type"]) for row in wps} == {("yes", "sexual_assault")}
    assert {(row["gbv_link"] or "", row["gbv_type"] or "") for row in analyst} == {("", "")}
