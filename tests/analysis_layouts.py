"""Hand-made layouts of incidents for the analysis tests, in MINUSCA's contingent Alpha."""

import math
from datetime import UTC, datetime

from django.contrib.gis.geos import Point

from incidents.choices import Context, IncidentKind, WorkflowState
from incidents.models import Incident, PersonsInvolved
from incidents.services import h3_cell_of
from organisations.models import Contingent

EARTH_RADIUS_M = 6_371_008.8


def north_of(longitude: float, latitude: float, metres: float) -> tuple[float, float]:
    """The point `metres` due north along the meridian (on the sphere DBSCAN uses)."""
    return longitude, latitude + math.degrees(metres / EARTH_RADIUS_M)


def seizure(
    longitude: float,
    latitude: float,
    *,
    kind: str = IncidentKind.CACHE_DISCOVERY,
    occurred_at: datetime | None = None,
    state: str = WorkflowState.VERIFIED,
    contingent_name: str = "Alpha",
    **fields,
) -> Incident:
    contingent = Contingent.objects.get(name=contingent_name)
    return Incident.objects.create(
        kind=kind,
        context=fields.pop("context", Context.CRIMINAL),
        occurred_at=occurred_at or datetime(2025, 6, 1, tzinfo=UTC),
        location=Point(longitude, latitude, srid=4326),
        h3_cell=h3_cell_of(latitude=latitude, longitude=longitude),
        country=fields.pop("country", "CAF"),
        mission=contingent.mission,
        contingent=contingent,
        state=state,
        releasability=fields.pop("releasability", 3),
        **fields,
    )


def persons(incident: Incident, **counts) -> None:
    """counts like female_adult_victim=2."""
    for key, count in counts.items():
        sex, age_group, role = key.split("_")
        PersonsInvolved.objects.create(
            incident=incident, sex=sex, age_group=age_group, role=role, count=count
        )
