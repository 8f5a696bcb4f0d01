""" "Occurred until" covers the whole of the last unit written (a date, a minute, a second),
in the list, the API and the map alike: the map writes a day's end as 23:59:59, and an
incident at 23:59:59.5 belongs to that day (issue 24: such a window now closes its last
month, which the map then reads from its kept counts)."""

from datetime import UTC, datetime

import pytest

from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from tests.personas import build_world
from tests.test_map_data import layer


@pytest.fixture
def world(db):
    return build_world()


@pytest.mark.parametrize(
    ("until", "end"),
    [
        ("2025-03-31", datetime(2025, 3, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
        ("2025-03-31T23:59Z", datetime(2025, 3, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
        ("2025-03-31T23:59:59Z", datetime(2025, 3, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
        ("2025-03-31T23:59:59+01:00", datetime(2025, 3, 31, 22, 59, 59, 999_999, tzinfo=UTC)),
        ("2025-03-31T23:59:59.5Z", datetime(2025, 3, 31, 23, 59, 59, 500_000, tzinfo=UTC)),
        ("2025-03-31T12:00:00Z", datetime(2025, 3, 31, 12, 0, 0, 999_999, tzinfo=UTC)),
    ],
)
def test_the_end_covers_the_last_unit_written(world, until, end):
    filters = IncidentFilterSet({"occurred_before": until}, queryset=Incident.objects.all())

    assert filters.is_valid(), filters.errors
    assert filters.form.cleaned_data["occurred_before"] == end


def test_an_incident_in_the_last_second_is_in_the_list_and_on_the_map(client, world):
    admin = world.users["admin"]
    last = world.records["alpha_verified_L1"]
    Incident.objects.filter(pk=last.pk).update(
        occurred_at=datetime(2025, 3, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    )
    window = {"occurred_after": "2025-03-01T00:00:00Z", "occurred_before": "2025-03-31T23:59:59Z"}
    client.force_login(admin)

    listed = client.get("/api/v1/incidents", window).json()["results"]
    mapped = layer(client, admin, **window)

    assert last.pk in {row["id"] for row in listed}
    assert (
        mapped["total"]
        == Incident.objects.filter(
            occurred_at__gte=datetime(2025, 3, 1, tzinfo=UTC),
            occurred_at__lt=datetime(2025, 4, 1, tzinfo=UTC),
            withdrawn_at__isnull=True,
        ).count()
    )
