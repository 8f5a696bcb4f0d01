"""Whether the counts of items that the database keeps (incidents/derived/flow_counts.py) answer a
flow analysis's choice of incidents for where the items were made, and the SQL that reads
them if so.

They do when the filter tests only what they are keyed by: the access policy's conditions
(mission, contingent, state, releasability, country), the incident's kind and context,
withdrawn or not, country or region, and a time window of whole months (UTC). They do not
for free text, an area or box, edits since a date, a weapon category (it chooses incidents
that hold such a weapon, and counts all their weapons), or a window that cuts a month: those
analyses make their pass over the items.
"""

from datetime import date, datetime

from django.core.exceptions import EmptyResultSet

from geo.analyses.source import IncidentChoice
from geo.map.layers import month_after, month_start
from incidents.derived.flow_counts import WeaponFlowCount
from incidents.filtersets import filter_kept_counts

NOT_ANSWERED = ("q", "polygon", "bbox", "updated_since", "category")

# Columns: made_in, country, category, month, items, records.
NO_COUNTS_SQL = (
    "SELECT made_in, country, category, month, items, records"
    " FROM incidents_weaponflowcount WHERE false"
)


def kept_counts_sql(chosen_by: IncidentChoice) -> tuple[str, tuple] | None:
    """SQL and parameters of the kept counts of the incidents `chosen_by` chooses, with the
    columns made_in, country, category, month, items, records (several
    rows per flow: the caller sums them); None if the kept counts cannot answer."""
    filters = chosen_by.filters
    if any(filters.get(name) for name in NOT_ANSWERED):
        return None
    months = _month_numbers(filters.get("occurred_after"), filters.get("occurred_before"))
    if months is None:
        return None
    first_month, end_month = months
    counts = WeaponFlowCount.objects.filter(
        chosen_by.visibility.visible, withdrawn=bool(filters.get("withdrawn"))
    )
    if first_month is not None:
        counts = counts.filter(month__gte=first_month)
    if end_month is not None:
        counts = counts.filter(month__lt=end_month)
    counts = filter_kept_counts(counts, filters).values_list(
        "made_in", "country", "category", "month", "items", "records"
    )
    try:
        return counts.order_by().query.sql_with_params()
    except EmptyResultSet:
        # A reader granted nothing, an empty list of choices.
        return NO_COUNTS_SQL, ()


def _month_numbers(
    after: datetime | None, before: datetime | None
) -> tuple[int | None, int | None] | None:
    """The window [after, before] as month numbers (WeaponItem.seized_month): the first, and
    the one after the last, each None where the window is open; None if an end cuts a month."""
    first_month = end_month = None
    if after:
        start = month_start(after)
        if start is None:
            return None
        first_month = _month_number(start)
    if before:
        end = month_after(before)
        if end is None:
            return None
        end_month = _month_number(end)
    return first_month, end_month


def _month_number(first_day: date) -> int:
    # As WeaponItem.seized_month numbers months.
    return first_day.year * 12 + first_day.month - 1
