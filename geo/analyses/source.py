"""The incidents an analysis works on, as SQL that set-based queries can build on.

Every statement built on the chosen incidents runs on the database they are read from
(`incidents.db`): the replica when the run chose it (geo/analyses/services.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections
from django.db.models import FloatField, Func, QuerySet
from django.http import QueryDict

if TYPE_CHECKING:
    from incidents.access import Visibility
    from organisations.access import Principal

# Called with a whole percentage (0–100) as an analysis advances.
Progress = Callable[[int], None]


def no_progress(percent: int) -> None:
    """For callers (benchmarks, tests) that do not report progress."""


def chosen_incidents_sql(incidents: QuerySet, *fields: str) -> tuple[str, tuple]:
    """SQL and parameters of a subquery yielding one row per chosen incident.

    Columns: `id`, `location_is_exact`, `shown_location` (geometry, SRID 4326) and the
    model `fields` asked for. Use it as a CTE:

        sql, params = chosen_incidents_sql(incidents, "occurred_at", "country")
        cursor.execute(f"WITH chosen AS ({sql}) SELECT ... FROM chosen ...", params)
    """
    values = incidents.order_by().values("id", "location_is_exact", "shown_location", *fields)
    try:
        sql, params = values.query.sql_with_params()
    except EmptyResultSet:
        # Django's way of saying the filter can match nothing (a reader granted no
        # records, an empty list of choices): the same columns, no rows.
        sql, params = _no_incidents_sql(fields), ()
    # Django selects geometries as EWKB bytea (for its own reading); turn it back into a
    # geometry so the query built on top can use PostGIS functions on it.
    columns = ", ".join(f'chosen_row."{field}"' for field in fields)
    return (
        # A visibility that grants no exact location compiles to a constant (0), hence the cast.
        "SELECT chosen_row.id, chosen_row.location_is_exact::boolean AS location_is_exact,"
        " chosen_row.shown_location::geometry AS shown_location"
        f"{', ' + columns if columns else ''} FROM ({sql}) AS chosen_row",
        params,
    )


def chosen_points_sql(incidents: QuerySet, *fields: str) -> tuple[str, tuple]:
    """As `chosen_incidents_sql`, with the point a reader may see as two numbers instead of
    a geometry: columns `id`, `latitude`, `longitude` and the model `fields`.

    For analyses that read every point: no geometry goes through EWKB and back, which costs
    more than the rest of such a query."""
    values = (
        incidents.order_by()
        .annotate(
            chosen_latitude=Func("shown_location", function="ST_Y", output_field=FloatField()),
            chosen_longitude=Func("shown_location", function="ST_X", output_field=FloatField()),
        )
        .values("id", "chosen_latitude", "chosen_longitude", *fields)
    )
    try:
        sql, params = values.query.sql_with_params()
    except EmptyResultSet:
        sql, params = _no_incidents_sql(fields), ()
        sql = sql.replace(
            "true AS location_is_exact, incident.location AS shown_location",
            "ST_Y(incident.location) AS chosen_latitude,"
            " ST_X(incident.location) AS chosen_longitude",
        )
    columns = ", ".join(f'chosen_row."{field}"' for field in fields)
    return (
        "SELECT chosen_row.id, chosen_row.chosen_latitude AS latitude,"
        " chosen_row.chosen_longitude AS longitude"
        f"{', ' + columns if columns else ''} FROM ({sql}) AS chosen_row",
        params,
    )


# Columns that `visible_with` derives, and the stored column each one is derived from.
SHOWN_COLUMNS = {"shown_admin_area_id": "admin_area_id"}


def _no_incidents_sql(fields: tuple[str, ...]) -> str:
    columns = "".join(
        f', incident."{SHOWN_COLUMNS.get(field, field)}" AS "{field}"' for field in fields
    )
    return (
        "SELECT incident.id, true AS location_is_exact,"
        f" incident.location AS shown_location{columns}"
        " FROM incidents_incident AS incident WHERE false"
    )


@dataclass(frozen=True)
class IncidentChoice:
    """How an analysis's incidents were chosen: the access policy's conditions for its
    reader and the incident filterset's cleaned data. For analyses that can read counts
    the database keeps (keyed by the incident's columns) instead of the incidents."""

    visibility: Visibility
    filters: dict


def analysis_incidents(
    *, requester: Principal | None, mission_id: int | None, incident_filter: dict
) -> QuerySet:
    """The incidents a run reads: what its requester may read (or, for a scheduled run,
    what its mission's analysts read), narrowed by the shared incident filterset.

    Raises ValidationError naming the filter fields that are wrong."""
    return analysis_choice(
        requester=requester, mission_id=mission_id, incident_filter=incident_filter
    )[0]


def analysis_choice(
    *,
    requester: Principal | None,
    mission_id: int | None,
    incident_filter: dict,
    using: str | None = None,
) -> tuple[QuerySet, IncidentChoice]:
    """The incidents a run reads (see `analysis_incidents`), and how they were chosen;
    read from the database `using` (the primary by default). The requester's memberships
    are read from the primary whatever `using` says."""
    from incidents.access import incident_visibility, mission_reader_visibility
    from incidents.filtersets import IncidentFilterSet
    from incidents.models import Incident

    if requester is not None:
        visibility = incident_visibility(requester)
    else:
        visibility = mission_reader_visibility(mission_id)
    readable = Incident.objects.using(using).visible_with(visibility)
    # A QueryDict, as from a query string: single-valued filters take one value,
    # multiple-choice filters the list.
    query = QueryDict(mutable=True)
    for name, value in incident_filter.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    filterset = IncidentFilterSet(data=query, queryset=readable)
    if not filterset.is_valid():
        raise ValidationError(
            {f"filter.{name}": errors for name, errors in filterset.errors.items()}
        )
    return filterset.qs, IncidentChoice(visibility, filterset.form.cleaned_data)


def data_fingerprint(incidents: QuerySet) -> tuple[str, int]:
    """A digest of the state of the chosen incidents and how many there are. Any change to
    a chosen incident's record raises one of its two revisions (Incident.revision: an edit
    however made, a withdrawal; IncidentPartsRevision: a weapon, ammunition or people
    added, changed or removed, a trace request or custody event written), and an incident
    chosen or no longer chosen changes the set: a stored result with another fingerprint is
    stale."""
    sql, params = chosen_incidents_sql(incidents, "revision")
    with connections[incidents.db].cursor() as cursor:
        cursor.execute(
            f"""
            WITH chosen AS ({sql})
            SELECT count(*), sum(chosen.id),
                   sum(hashtext(concat_ws(':', chosen.id, chosen.revision, parts.revision)))
            FROM chosen
            LEFT JOIN incidents_incidentpartsrevision AS parts
                ON parts.incident_id = chosen.id
            """,
            params,
        )
        count, *parts = cursor.fetchone()
    return hashlib.sha256("|".join(map(str, (count, *parts))).encode()).hexdigest(), count
