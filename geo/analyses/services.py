"""Writes and rules about analysis runs: requesting, executing, cancelling, refreshing."""

import hashlib
import json
import logging

import rules
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from armsmonitor.jobs import (
    JobAttempt,
    JobFailed,
    JobLost,
    JobMessages,
    job_enqueue,
    job_recover,
    job_run,
    stuck,
)
from armsmonitor.replica import PRIMARY, read_source_caught_up, source_record
from geo.analyses import trends
from geo.analyses.errors import AnalysisCancelled, AnalysisError
from geo.analyses.hotspot_messages import hotspot_explanation
from geo.analyses.kinds import ANALYSES
from geo.analyses.source import analysis_choice, analysis_incidents, data_fingerprint
from geo.analyses.storage import cells_store, clusters_store, run_rows_delete
from geo.models import AnalysisKind, AnalysisRun
from organisations.models import Mission

logger = logging.getLogger(__name__)

# What the nightly schedule keeps fresh for every mission.
STANDARD_ANALYSES: dict[str, dict] = {
    # No resolution: the scale is chosen from each mission's incidents (geo.analyses.scales);
    # a fixed resolution 7 left every hexagon "not significant" at mission scale (issue 22).
    AnalysisKind.HOTSPOTS: {},
    AnalysisKind.CLUSTERS: {"distance_m": 2000, "min_incidents": 5},
    AnalysisKind.DENSITY: {},
    AnalysisKind.TRENDS: {"period": "month"},
}
# Keys of a filter that do not change which records are read.
PRESENTATION_KEYS = {"ordering", "page", "cursor", "format"}


def analysis_run_request(
    *, requester, kind: str, parameters: dict, incident_filter: dict
) -> AnalysisRun:
    """Ask for an analysis on the records `requester` may read, narrowed by
    `incident_filter` (the parameters of the shared incident filterset).

    Returns the stored run of an identical request on unchanged records if there is one
    (`run.reused` is then True), else a new queued run whose task starts once the
    transaction commits. Raises PermissionDenied, or ValidationError naming the field."""
    if not rules.has_perm("incidents.analyse_incidents", requester):
        raise PermissionDenied(_("You may not run analyses."))
    return _request(
        kind=kind,
        parameters=parameters,
        incident_filter=incident_filter,
        requester=requester,
        mission=None,
    )


def analysis_run_request_for_mission(
    *, mission: Mission, kind: str, parameters: dict | None = None
) -> AnalysisRun:
    """A scheduled run on what `mission`'s analysts read."""
    return _request(
        kind=kind,
        parameters=parameters or {},
        incident_filter={},
        requester=None,
        mission=mission,
    )


def _request(*, kind, parameters, incident_filter, requester, mission) -> AnalysisRun:
    spec = ANALYSES.get(kind)
    if spec is None:
        raise ValidationError({"kind": _("Unknown kind of analysis: %(kind)s.") % {"kind": kind}})
    if not isinstance(parameters, dict):
        raise ValidationError({"parameters": _("Give the parameters as an object.")})
    if not isinstance(incident_filter, dict):
        raise ValidationError({"filter": _("Give the filter as an object.")})
    form = spec.parameters_form(parameters)
    if not form.is_valid():
        raise ValidationError(
            {f"parameters.{name}": errors for name, errors in form.errors.items()}
        )
    chosen_parameters = _json_ready(form.parameters().__dict__)
    chosen_filter = _normalised_filter(incident_filter)
    incidents = analysis_incidents(
        requester=requester,
        mission_id=mission.pk if mission else None,
        incident_filter=chosen_filter,
    )
    fingerprint, incident_count = data_fingerprint(incidents)
    scope = f"user:{requester.pk}" if requester is not None else f"mission:{mission.pk}"
    request_key = hashlib.sha256(
        json.dumps(
            {
                "kind": kind,
                "parameters": chosen_parameters,
                "filter": chosen_filter,
                "scope": scope,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    existing = _live_run(request_key, fingerprint)
    if existing:
        return existing
    try:
        with transaction.atomic():
            run = AnalysisRun.objects.create(
                kind=kind,
                parameters=chosen_parameters,
                incident_filter=chosen_filter,
                requested_by=requester,
                mission=mission,
                request_key=request_key,
                data_fingerprint=fingerprint,
                incidents_read=incident_count,
            )
    except IntegrityError:
        # The same request arrived at the same moment and won the race.
        return _live_run(request_key, fingerprint)
    run.reused = False
    job_enqueue(job=run)
    return run


def _live_run(request_key: str, fingerprint: str) -> AnalysisRun | None:
    run = AnalysisRun.objects.filter(
        request_key=request_key, data_fingerprint=fingerprint, state__in=AnalysisRun.LIVE_STATES
    ).first()
    if run is not None and AnalysisRun.objects.filter(stuck(), pk=run.pk).exists():
        # Never hand out a run whose task was lost or whose worker died: take it up now
        # (sent again with a fresh lease, or failed, and then a new run is made).
        run = job_recover(job=run)
        if run.state not in AnalysisRun.LIVE_STATES:
            return None
    if run:
        run.reused = True
    return run


def _normalised_filter(incident_filter: dict) -> dict:
    """The filter with presentation keys and empty values dropped and every value a
    sorted list of strings, so that equal filters give equal request keys."""
    normalised = {}
    for name, value in incident_filter.items():
        if name in PRESENTATION_KEYS:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        values = sorted(str(item) for item in values if item not in (None, ""))
        if values:
            normalised[name] = values
    return dict(sorted(normalised.items()))


def _json_ready(values: dict) -> dict:
    return json.loads(json.dumps(values))


def analysis_run_execute(*, run_id: int, worker: str, task_id: str = "") -> None:
    """Run an analysis to its end (armsmonitor.jobs.job_run: safe to call again; only the
    attempt that owns the run writes its end). A run left 'running' by a worker that died
    starts over, replacing whatever the interrupted attempt stored."""
    job_run(
        AnalysisRun,
        run_id,
        body=_execute,
        messages=ANALYSIS_MESSAGES,
        task_id=task_id,
        worker=worker,
        related=("requested_by",),
    )


ANALYSIS_MESSAGES = JobMessages(
    time_limit=lambda: _("The analysis took longer than the time limit and was stopped."),
)


def _execute(attempt: JobAttempt) -> None:
    run = attempt.job
    spec = ANALYSES[run.kind]
    form = spec.parameters_form(run.parameters)
    form.is_valid()
    try:
        # The incidents from the replica once it holds every write made before this
        # attempt (and so before the request); the run's own rows go to the primary.
        source = read_source_caught_up(settings.REPLICA_CATCH_UP_SECONDS)
        _without_jit({PRIMARY, source.alias})
        incidents, choice = analysis_choice(
            requester=run.requested_by,
            mission_id=run.mission_id,
            incident_filter=run.incident_filter,
            using=source.alias,
        )
        # Kinds that can read the counts the database keeps learn how the incidents were
        # chosen, to tell whether those counts answer the filter.
        reads_kept_counts = {"chosen_by": choice} if spec.reads_kept_counts else {}
        outcome = spec.analyse(
            incidents,
            form.parameters(),
            _progress_recorder(attempt),
            **reads_kept_counts,
        )
    except AnalysisCancelled as cancelled:
        raise JobLost from cancelled
    except AnalysisError as error:
        raise JobFailed(str(error)) from error
    # Which database the run read, and the replica's lag then (with a replica configured).
    read_database = source_record(source)
    if read_database is not None:
        outcome["read_database"] = read_database
    _store(attempt, incidents, outcome)


def _without_jit(aliases: set[str]) -> None:
    """Analyses run big statements once each: compiling them (PostgreSQL's JIT) costs more
    than it saves. For this worker's connections, which run only tasks."""
    for alias in sorted(aliases):
        with connections[alias].cursor() as cursor:
            cursor.execute("SET jit = off")


def _progress_recorder(attempt: JobAttempt):
    def record(percent: int) -> None:
        # Stops the attempt when the run was cancelled or another attempt took it over.
        if not attempt.progress(percent):
            raise AnalysisCancelled

    return record


def _store(attempt: JobAttempt, incidents, outcome: dict) -> None:
    run_id = attempt.job.pk
    with transaction.atomic():
        if attempt.lock() is None:
            raise JobLost
        run_rows_delete(run_id)
        cells = outcome.pop("cells", None)
        if cells is not None:
            cells_store(run_id, cells)
        members = outcome.pop("cluster_members", None)
        if members is not None:
            clusters_store(run_id, incidents, members)
        attempt.finish(result=_json_ready(outcome))


def analysis_run_cancel(*, run: AnalysisRun) -> AnalysisRun:
    """Stop a queued or running run; a running one stops at its next progress step."""
    AnalysisRun.objects.filter(
        pk=run.pk, state__in=(AnalysisRun.State.QUEUED, AnalysisRun.State.RUNNING)
    ).update(state=AnalysisRun.State.CANCELLED, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def mission_analyses_refresh(*, mission: Mission) -> list[AnalysisRun]:
    """Request the standard analyses of `mission`; unchanged data reuses last night's."""
    return [
        analysis_run_request_for_mission(mission=mission, kind=kind, parameters=parameters)
        for kind, parameters in STANDARD_ANALYSES.items()
    ]


def result_for_reader(run: AnalysisRun, reader) -> dict | None:
    """The stored result as `reader` may see it: gender-disaggregated figures only for
    readers entitled to them, counts of people small-cell suppressed (trends.suppressed).

    A hot-spot result also says what it found, in the reader's language ("explanation",
    geo.analyses.hotspot_messages)."""
    if run.result is None:
        return None
    if rules.has_perm("incidents.view_gender_data", reader):
        result = trends.suppressed(run.result) if run.kind == AnalysisKind.TRENDS else run.result
    else:
        result = {name: value for name, value in run.result.items() if name != "gender"}
    if run.kind == AnalysisKind.HOTSPOTS:
        explanation = hotspot_explanation(result.get("summary", {}))
        if explanation is not None:
            result = {**result, "explanation": explanation}
    return result


def run_is_stale(run: AnalysisRun) -> bool:
    """Whether the records the run read have changed since."""
    return data_fingerprint(_run_incidents(run))[0] != run.data_fingerprint


def _run_incidents(run: AnalysisRun):
    """The incidents `run` reads, as of now."""
    return analysis_incidents(
        requester=run.requested_by, mission_id=run.mission_id, incident_filter=run.incident_filter
    )
