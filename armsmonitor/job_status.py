"""The status of a background job as its page polls it (static/js/job-progress.js): one
JSON shape and one view for every job kind.

Each kind keeps its own URL and its own access rule: the view is given a function that
returns the jobs the request's user may read, and answers 404 for any other (a reader
never learns that someone else's job exists).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views import View

from armsmonitor.jobs import LeasedJob


def job_status(job: LeasedJob) -> dict[str, Any]:
    """What a job's page shows while it runs, the same keys for every kind:

    - `state`, `state_label` (in the reader's language), `finished`;
    - `progress`: percent done, or None for a kind that counts rows instead;
    - `rows_checked`: rows read so far, or None for a kind that does not count rows;
    - `stage`: what it is doing now ("" when the kind does not say);
    - `error`: why it failed ("" unless it did)."""
    return {
        "state": job.state,
        "state_label": job.get_state_display(),  # type: ignore[attr-defined]
        "finished": job.finished,
        "progress": job.percent_done,
        "rows_checked": getattr(job, "rows_checked", None),
        "stage": getattr(job, "stage", ""),
        "error": job.error_message,
    }


@method_decorator(login_required, name="dispatch")
class JobStatusView(View):
    """`<job>.json` of one job kind: `readable(request)` gives the jobs the user may read
    (the same rule as the job's page)."""

    readable: Callable[[HttpRequest], QuerySet] | None = None

    def get(self, request: HttpRequest, pk: int) -> JsonResponse:
        assert self.readable is not None, "JobStatusView.as_view(readable=…)"
        job = get_object_or_404(self.readable(request), pk=pk)
        return JsonResponse(job_status(job))
