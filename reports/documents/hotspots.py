"""The stored hot-spot analyses a report shows (reused, not recomputed)."""

from __future__ import annotations

from django.db.models import Max

from geo.models import AnalysisKind, AnalysisRun


def stored_hotspot_runs(*, scope, requester, mission_id: int | None) -> list[AnalysisRun]:
    """The latest finished scheduled hot-spot run of each mission of the scope that the
    reader may read: reused rather than recomputed. A scheduled report (no requester)
    reads its own mission's runs."""
    runs = AnalysisRun.objects.filter(
        kind=AnalysisKind.HOTSPOTS,
        state=AnalysisRun.State.DONE,
        requested_by__isnull=True,
        mission_id__in=scope.mission_ids,
    )
    if requester is not None:
        runs = runs & AnalysisRun.objects.visible_to(requester)
    else:
        runs = runs.filter(mission_id=mission_id)
    latest = runs.values("mission_id").annotate(last=Max("id")).values_list("last", flat=True)
    return list(
        AnalysisRun.objects.filter(pk__in=list(latest)).select_related("mission").order_by("pk")
    )
