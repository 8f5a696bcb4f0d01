"""Incident exports (CSV, XLSX, GeoJSON): rows built from a `visible_to` queryset, so
locations are the ones the reader may see, streamed so memory stays flat."""

import csv
import json
import tempfile
from collections.abc import Iterator

from openpyxl import Workbook

from incidents.querysets import IncidentQuerySet

HEADER = [
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
    "external_reference",
    "updated_at",
]
# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def incident_rows(incidents: IncidentQuerySet) -> Iterator[list[object]]:
    """One list of values per incident, in HEADER's order, spreadsheet-safe."""
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
                incident.external_reference,
                incident.updated_at.isoformat(),
            )
        ]


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, line: str) -> str:
        return line


def incidents_csv(incidents: IncidentQuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for row in incident_rows(incidents):
        yield writer.writerow(row)


def incidents_geojson(incidents: IncidentQuerySet) -> Iterator[str]:
    yield '{"type": "FeatureCollection", "features": ['
    for index, row in enumerate(incident_rows(incidents)):
        properties = dict(zip(HEADER, row, strict=True))
        longitude, latitude = properties.pop("longitude"), properties.pop("latitude")
        feature = {
            "type": "Feature",
            "id": properties["id"],
            "properties": properties,
            "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
        }
        yield ("," if index else "") + json.dumps(feature, ensure_ascii=False)
    yield "]}"


def incidents_xlsx(incidents: IncidentQuerySet):
    """An XLSX workbook in a temporary file (write-only mode keeps memory flat)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("incidents")
    sheet.append(HEADER)
    for row in incident_rows(incidents):
        sheet.append(row)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when sent
    workbook.save(spool)
    spool.seek(0)
    return spool
