"""Trends: counts per period by kind, context, weapon category, country and region, and
gender-disaggregated counts of the people involved.

The gender figures are computed for every run and removed on the way out for readers not
entitled to them (see `result_for_reader` in geo/analyses/services.py), so one stored run serves
every reader of its mission. The counts of people are stored as counted and print through
small-cell suppression (incidents.suppression) on the way out (`suppressed`): each cell of
one period, role, sex and age group, with no total beside it, so primary suppression only.
"""

from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet

from geo.analyses.source import Progress, chosen_incidents_sql
from incidents import suppression

PERIODS = ("month", "quarter", "year")


@dataclass(frozen=True)
class TrendParameters:
    period: str = "month"


def analyse(incidents: QuerySet, parameters: TrendParameters, progress: Progress) -> dict:
    sql, params = chosen_incidents_sql(
        incidents, "occurred_at", "kind", "context", "country", "gbv_link"
    )
    period = "date_trunc(%s, chosen.occurred_at)::date"
    queries = {
        "incidents_by_kind": (f"SELECT {period}, chosen.kind, count(*) FROM chosen GROUP BY 1, 2",),
        "incidents_by_context": (
            f"SELECT {period}, chosen.context, count(*) FROM chosen GROUP BY 1, 2",
        ),
        "incidents_by_country": (
            f"SELECT {period}, coalesce(chosen.country, ''), count(*) FROM chosen GROUP BY 1, 2",
        ),
        # A country in several regional organisations counts in each of them.
        "incidents_by_region": (
            f"SELECT {period}, region.code, count(*) FROM chosen"
            " JOIN geo_region AS region ON chosen.country = ANY(region.member_countries)"
            " GROUP BY 1, 2",
        ),
        "weapons_by_category": (
            f"SELECT {period}, weapon.category, sum(weapon.quantity) FROM chosen"
            " JOIN incidents_weaponitem AS weapon ON weapon.incident_id = chosen.id"
            " GROUP BY 1, 2",
        ),
        "persons_by_role_sex_age": (
            f"SELECT {period}, person.role || '/' || person.sex || '/' || person.age_group,"
            " sum(person.count) FROM chosen"
            " JOIN incidents_personsinvolved AS person ON person.incident_id = chosen.id"
            " GROUP BY 1, 2",
        ),
        "gbv_linked_incidents": (
            f"SELECT {period}, 'linked to gender-based violence', count(*) FROM chosen"
            " WHERE chosen.gbv_link GROUP BY 1, 2",
        ),
    }
    result: dict = {"period": parameters.period, "series": {}}
    with connections[incidents.db].cursor() as cursor:
        for step, (name, (query,)) in enumerate(queries.items(), start=1):
            cursor.execute(
                f"WITH chosen AS ({sql}) {query} ORDER BY 1, 2", (*params, parameters.period)
            )
            result["series"][name] = [
                {"period": start.isoformat(), "key": key, "count": int(count)}
                for start, key, count in cursor.fetchall()
            ]
            progress(int(100 * step / len(queries)))
    series = result["series"]
    result["gender"] = {
        name: series.pop(name) for name in ("persons_by_role_sex_age", "gbv_linked_incidents")
    }
    return result


def suppressed(result: dict) -> dict:
    """The stored result as it is printed: the counts of people (`persons_by_role_sex_age`)
    small-cell suppressed under today's threshold ("< 5"); the rest as stored."""
    gender = result.get("gender")
    if not gender or "persons_by_role_sex_age" not in gender:
        return result
    cells = gender["persons_by_role_sex_age"]
    printed = suppression.suppress(dict(enumerate(int(cell["count"]) for cell in cells)), [])
    people = [{**cell, "count": printed[index]} for index, cell in enumerate(cells)]
    return {**result, "gender": {**gender, "persons_by_role_sex_age": people}}
