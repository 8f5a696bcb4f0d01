"""The counts of people that reports print (PersonsInvolved: role, sex, age group, outcome,
count), as SQL aggregates over the report's incidents. Every table built from them goes
through incidents.suppression."""

from __future__ import annotations

from django.db.models import QuerySet

from incidents.choices import CONFLICT_CONTEXTS, AgeGroup, PersonOutcome, Sex
from reports.documents.figures import query

SEXES = list(Sex.values)  # female, male, unknown
AGE_GROUPS = list(AgeGroup.values)  # child, adult, unknown
HARMED = [PersonOutcome.KILLED.value, PersonOutcome.INJURED.value]


def by_role_sex_age(incidents: QuerySet) -> list[tuple]:
    """(role, sex, age group, people), every outcome together."""
    return query(
        incidents,
        """
        SELECT p.role, p.sex, p.age_group, sum(p.count)
        FROM incidents_personsinvolved AS p WHERE p.incident_id IN (SELECT id FROM chosen)
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        """,
    )


def sex_by_age_grid(rows: list[tuple]) -> list[list[int]]:
    """People by sex (rows: female, male, unknown) and age group (columns: child, adult,
    unknown), every role together, from by_role_sex_age's rows."""
    grid = [[0] * len(AGE_GROUPS) for _sex in SEXES]
    for _role, sex, age, people in rows:
        grid[SEXES.index(sex)][AGE_GROUPS.index(age)] += int(people)
    return grid


def harmed_by_sex_and_context(incidents: QuerySet) -> list[tuple]:
    """(context, sex, outcome, people) of the people killed or injured."""
    return query(
        incidents,
        """
        SELECT COALESCE(chosen.context, 'unknown'), p.sex, p.outcome, sum(p.count)
        FROM incidents_personsinvolved AS p JOIN chosen ON chosen.id = p.incident_id
        WHERE p.outcome = ANY(%s)
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        """,
        (HARMED,),
    )


def is_conflict(context: str) -> bool:
    return context in {str(c) for c in CONFLICT_CONTEXTS}


def gbv_weapons_by_category(incidents: QuerySet) -> list[tuple]:
    """(category, incidents linked to gender-based violence, weapons) of those incidents."""
    return query(
        incidents,
        """
        SELECT w.category, count(DISTINCT chosen.id), sum(w.quantity)
        FROM chosen JOIN incidents_weaponitem AS w ON w.incident_id = chosen.id
        WHERE chosen.gbv_link
        GROUP BY 1 ORDER BY 3 DESC, 1
        """,
    )
