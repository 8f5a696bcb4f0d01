"""The incidents an analysis works on, as SQL that set-based queries can build on."""

from collections.abc import Callable

from django.db.models import QuerySet

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
    sql, params = values.query.sql_with_params()
    # Django selects geometries as EWKB bytea (for its own reading); turn it back into a
    # geometry so the query built on top can use PostGIS functions on it.
    columns = ", ".join(f'chosen_row."{field}"' for field in fields)
    return (
        "SELECT chosen_row.id, chosen_row.location_is_exact,"
        " chosen_row.shown_location::geometry AS shown_location"
        f"{', ' + columns if columns else ''} FROM ({sql}) AS chosen_row",
        params,
    )
