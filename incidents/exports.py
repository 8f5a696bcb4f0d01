"""Incident exports: rows built from a `visible_to` queryset, so locations are the ones
the reader may see."""

from collections.abc import Iterable, Iterator

from incidents.querysets import IncidentQuerySet

CSV_HEADER = [
    "id",
    "kind",
    "occurred_at",
    "longitude",
    "latitude",
    "location_is_exact",
    "location_precision",
    "country",
    "context",
    "mission",
    "contingent",
    "releasability",
    "state",
]
# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def incident_csv_rows(incidents: IncidentQuerySet) -> Iterator[Iterable[object]]:
    yield CSV_HEADER
    for incident in incidents.select_related("mission", "contingent").iterator(chunk_size=2000):
        yield [
            spreadsheet_safe(value)
            for value in (
                incident.id,
                incident.kind,
                incident.occurred_at.isoformat(),
                round(incident.shown_location.x, 6),
                round(incident.shown_location.y, 6),
                incident.location_is_exact,
                incident.location_precision,
                incident.country,
                incident.context,
                incident.mission.acronym,
                incident.contingent.name,
                incident.releasability,
                incident.state,
            )
        ]
