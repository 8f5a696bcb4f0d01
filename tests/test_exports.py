"""CSV exports cannot smuggle spreadsheet formulas."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

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
    assert rows[0]["longitude"] == "18.5"
