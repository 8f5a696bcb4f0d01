from armsmonitor.pagination import CursorPages


class IncidentCursorPagination(CursorPages):
    """Incidents by id, the one key that never changes: a pass through the pages never
    skips or repeats a record, even while records are edited. For incremental sync, pull
    with `updated_since` set to when the previous pass began (the `Date` of its first
    answer) and follow `next` to the end."""

    ordering = ("id",)
