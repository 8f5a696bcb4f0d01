"""Hot-spot analysis speed, end to end, as a worker runs it.

    .venv/bin/python bench/hotspots_benchmark.py [--sizes 10000 100000 1000000]
        [--resolution 7|auto] [--rings 1] [--permutation-incidents 50000]
        [--permutation-resolution 7] [--permutations 999] [--skip-permutations]

(`--sizes` with no number runs only the permutations.)

For each size, the script generates that many verified incidents over the Central African
Republic (`generate_points`: 70 % around 300 towns of uneven size with a spread of a few km,
30 % uniform over the country's bounding box, 14.4–27.5 E, 2.2–11.0 N), each with its
resolution-8 H3 cell as incidents.services.h3_cell_of gives it, in a mission and contingent of
its own, COPYs them into incidents_incident and ANALYZEs the table. Then:

- end to end: analysis_run_request() by a superuser, filtered on the mission, then
  analysis_run_execute() as a worker calls it (query, binning, study area, weights, Gi* with
  analytic p-values and FDR, summary, storing the hexagons): the time of both together, and
  the stages, from the run's progress points and the store functions (timed by wrapping
  them);
- the same stages again as separate calls on the same data: cell_counts, study_area,
  hexagon_weights, gi_star, cell_polygons_hex_ewkb and cells_store (in a transaction rolled back).

Then, with permutations: `--permutation-incidents` incidents at `--permutation-resolution`,
which makes a study area of about 100,000 cells (printed), an end-to-end run with
`--permutations` conditional permutations (the first permutation run of the process, so it
includes numba compiling esda's kernels, as a fresh worker's would), and gi_star alone
afterwards (compiled).

Targets (the issue): 1,000,000 incidents end to end in under 15 s; 999 permutations on about
100,000 cells in under 60 s.

The request's Celery task is not sent (`_enqueue` is replaced for the script's lifetime):
the script is the worker. Everything the script creates (runs and their hexagons, incidents,
contingent, mission) is deleted at the end, also after an error or Ctrl-C, and the incident
table is vacuumed and analysed again.
"""

import argparse
import io
import os
import resource
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "armsmonitor.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from h3.api import basic_int as h3_int  # noqa: E402

import geo.analyses.services as services  # noqa: E402
from geo.analyses import statistics  # noqa: E402
from geo.analyses.hexagons import cell_counts, cell_polygons_hex_ewkb  # noqa: E402
from geo.analyses.source import analysis_incidents  # noqa: E402
from geo.analyses.storage import cells_store, run_rows_delete  # noqa: E402
from geo.models import AnalysisRun  # noqa: E402
from incidents.services import H3_RESOLUTION  # noqa: E402
from organisations.models import Contingent, Mission  # noqa: E402

ACRONYM = "BENCH-HOTSPOTS"
# The Central African Republic's bounding box: west, east, south, north.
BOUNDING_BOX = (14.4, 27.5, 2.2, 11.0)
KM_PER_DEGREE = 111.32
KINDS = ["checkpoint_seizure", "cordon_search", "cache_discovery", "voluntary_surrender"]
CONTEXTS = ["armed_conflict", "criminal", "intercommunal", "other"]


# --- Data --------------------------------------------------------------------------------


def generate_points(
    count: int, *, seed: int = 20260101, towns: int = 300, town_share: float = 0.7
) -> tuple[np.ndarray, np.ndarray]:
    """(longitudes, latitudes) of `count` incidents: `town_share` of them around `towns` town
    centres, the rest uniform over the bounding box, in random order.

    Towns differ in size (log-normal weights); a town's spread (standard deviation of a
    normal in each direction) grows with the square root of its weight from 3 km for an
    average town, kept within 1.5–10 km, so that the densest neighbourhoods stay about as
    dense in a big town as in a small one, as on the ground.
    """
    rng = np.random.default_rng(seed)
    west, east, south, north = BOUNDING_BOX
    town_longitude = rng.uniform(west + 0.5, east - 0.5, towns)
    town_latitude = rng.uniform(south + 0.4, north - 0.4, towns)
    weight = rng.lognormal(0.0, 1.0, towns)
    weight /= weight.sum()
    spread_km = np.clip(3.0 * np.sqrt(weight * towns), 1.5, 10.0)

    in_towns = rng.binomial(count, town_share)
    town = rng.choice(towns, in_towns, p=weight)
    north_km = rng.normal(0.0, 1.0, in_towns) * spread_km[town]
    east_km = rng.normal(0.0, 1.0, in_towns) * spread_km[town]
    latitude = town_latitude[town] + north_km / KM_PER_DEGREE
    longitude = town_longitude[town] + east_km / (KM_PER_DEGREE * np.cos(np.radians(latitude)))

    longitude = np.concatenate([longitude, rng.uniform(west, east, count - in_towns)])
    latitude = np.concatenate([latitude, rng.uniform(south, north, count - in_towns)])
    order = rng.permutation(count)
    return longitude[order].round(6), latitude[order].round(6)


def h3_cells(longitude: np.ndarray, latitude: np.ndarray) -> np.ndarray:
    """Resolution-8 cell ids, as incidents.services.h3_cell_of computes them (h3's integer
    API gives the same number without the round trip through a hex string)."""
    return np.fromiter(
        (
            h3_int.latlng_to_cell(lat, lng, H3_RESOLUTION)
            for lat, lng in zip(latitude.tolist(), longitude.tolist(), strict=True)
        ),
        dtype=np.int64,
        count=len(longitude),
    )


def incidents_insert(
    longitude: np.ndarray,
    latitude: np.ndarray,
    contingent: Contingent,
    seed: int = 1,
    *,
    derived: bool = True,
) -> None:
    """COPY verified, exactly located incidents with their H3 cell into incidents_incident,
    then ANALYZE it. With `derived` False, the database's triggers are off for the COPY (a
    superuser's session_replication_role): the derived tables (map counts, flow counts) do
    not count these incidents, and they must be deleted the same way (incidents_delete)."""
    rng = np.random.default_rng(seed)
    count = len(longitude)
    cells = h3_cells(longitude, latitude).tolist()
    occurred = np.datetime_as_string(
        np.datetime64("2020-01-01T00:00:00") + rng.integers(0, 6 * 365 * 86400, count),
        unit="s",
    ).tolist()
    kinds = rng.integers(0, len(KINDS), count).tolist()
    contexts = rng.integers(0, len(CONTEXTS), count).tolist()
    fixed = (
        f"exact\tCAF\t\t\t3\tverified\tf\t2026-01-01T00:00:00+00\t2026-01-01T00:00:00+00\t"
        f"{contingent.pk}\t{contingent.mission_id}\tunknown\tday\t\t\t\tF\t\t"
    )
    buffer = io.StringIO()
    buffer.writelines(
        f"{KINDS[kind]}\t{when}+00\tSRID=4326;POINT({lng!r} {lat!r})\t{CONTEXTS[context]}\t"
        f"{fixed}{cell}\n"
        for kind, when, lng, lat, context, cell in zip(
            kinds, occurred, longitude.tolist(), latitude.tolist(), contexts, cells, strict=True
        )
    )
    buffer.seek(0)
    with transaction.atomic(), connection.cursor() as cursor:
        if not derived:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.copy_expert(
            "COPY incidents_incident (kind, occurred_at, location, context, location_precision,"
            " country, actors, narrative, releasability, state, gbv_link, created_at,"
            " updated_at, contingent_id, mission_id, actor_type, date_precision,"
            " external_reference, return_comment, withdrawn_reason, source_reliability,"
            " source, h3_cell) FROM STDIN",
            buffer,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")


def incidents_delete(mission: Mission, *, derived: bool = True) -> None:
    """Delete the mission's incidents; with `derived` False, those inserted with the triggers
    off (incidents_insert), which the derived tables never counted."""
    with transaction.atomic(), connection.cursor() as cursor:
        if not derived:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM incidents_incident WHERE mission_id = %s", [mission.pk])


def generated_incidents(count: int, contingent: Contingent, *, seed: int = 20260101) -> None:
    """Generate and insert `count` incidents, printing how long each step took."""
    start = time.perf_counter()
    longitude, latitude = generate_points(count, seed=seed)
    generated = time.perf_counter()
    incidents_insert(longitude, latitude, contingent)
    print(
        f"{count:,} incidents: generated in {generated - start:.1f} s, "
        f"H3 cells + COPY + ANALYZE in {time.perf_counter() - generated:.1f} s"
    )


# --- Setting up and cleaning up ------------------------------------------------------------

# Runs the script requested, deleted at the end.
created_runs: list[int] = []


def superuser():
    user = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if user is None:
        raise SystemExit("No active superuser: create one (make run does) and run again.")
    return user


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


@contextmanager
def benchmark_mission(acronym: str, name: str) -> Iterator[tuple[Mission, Contingent]]:
    """A mission and contingent of the script's own; on leaving (also after an error, Ctrl-C
    or SIGTERM), its runs, incidents, contingent and mission are deleted."""
    signal.signal(signal.SIGTERM, _terminate)
    _leftovers_delete(acronym)
    mission = Mission.objects.create(acronym=acronym, name=name)
    contingent = Contingent.objects.create(
        mission=mission, name="Benchmark", contributing_country="RWA", kind="tcc"
    )
    try:
        yield mission, contingent
    finally:
        # An interrupted query may have left the connection unusable.
        connection.close()
        _leftovers_delete(acronym)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE incidents_incident")
        print(f"Deleted the benchmark's runs, incidents and mission {acronym}.")


def _leftovers_delete(acronym: str) -> None:
    """Delete what this script created, now or in an earlier run that was killed."""
    run_ids = set(created_runs) | set(
        AnalysisRun.objects.filter(incident_filter={"mission": [acronym]}).values_list(
            "pk", flat=True
        )
    )
    with transaction.atomic():
        for run_id in run_ids:
            run_rows_delete(run_id)
        AnalysisRun.objects.filter(pk__in=run_ids).delete()
    mission = Mission.objects.filter(acronym=acronym).first()
    if mission is not None:
        with transaction.atomic():
            incidents_delete(mission)
            Contingent.objects.filter(mission=mission).delete()
            mission.delete()
    created_runs.clear()


# --- Timing a run as a worker runs it ------------------------------------------------------

marks: list[tuple[str, float]] = []


def _mark(label: str) -> None:
    marks.append((label, time.perf_counter()))


def _timed_call(label: str, function):
    def timed(*arguments, **keywords):
        _mark(f"{label} start")
        try:
            return function(*arguments, **keywords)
        finally:
            _mark(f"{label} end")

    return timed


def _instrument() -> None:
    """Time the stages of a run from inside, without changing what it does: its progress
    points, `_store`, and the functions that write the rows. The run's Celery task is not
    sent: this script is the worker."""
    progress_recorder = services._progress_recorder

    def recorder(run_id: int, attempt: int):
        record = progress_recorder(run_id, attempt)

        def timed_record(percent: int) -> None:
            _mark(f"progress {percent}")
            record(percent)

        return timed_record

    services._progress_recorder = recorder
    services._store = _timed_call("store", services._store)
    services.cells_store = _timed_call("cells_store", services.cells_store)
    services.clusters_store = _timed_call("clusters_store", services.clusters_store)
    services.job_enqueue = lambda *, job: ""


_instrument()


def end_to_end(requester, kind: str, parameters: dict, acronym: str, stages) -> AnalysisRun:
    """Request and execute a run; print the total and `stages`, (from mark, to mark, what)."""
    marks.clear()
    _mark("start")
    run = services.analysis_run_request(
        requester=requester,
        kind=kind,
        parameters=parameters,
        incident_filter={"mission": [acronym]},
    )
    created_runs.append(run.pk)
    if run.reused:
        raise SystemExit(f"run {run.pk} reused an earlier one: nothing would be measured")
    _mark("requested")
    services.analysis_run_execute(run_id=run.pk, worker="bench")
    _mark("executed")
    run.refresh_from_db()
    if run.state != AnalysisRun.State.DONE:
        raise SystemExit(f"run {run.pk} ended {run.state}: {run.error}")
    at = dict(marks)
    total = at["executed"] - at["start"]
    print(f"  end to end {total:8.2f} s  (request {at['requested'] - at['start']:.2f} s)")
    for start, end, what in stages:
        if start in at and end in at:
            print(f"    {what:<44} {at[end] - at[start]:8.2f} s")
    run.seconds = total
    return run


HOTSPOT_STAGES = [
    ("start", "requested", "request: filter, fingerprint, run row"),
    ("requested", "progress 10", "claim, read the points"),
    ("progress 10", "progress 30", "scale: bin, study areas, weights, Moran's I"),
    ("progress 30", "progress 60", "gi_star"),
    ("progress 60", "progress 85", "stability: Gi* at the neighbouring resolutions"),
    ("progress 85", "store start", "summary"),
    ("store start", "cells_store start", "lock run, delete earlier rows"),
    ("cells_store start", "cells_store end", "cells_store (polygons, COPY)"),
    ("cells_store end", "store end", "result, state, commit"),
    ("store end", "executed", "after store"),
]


# --- Hot spots -------------------------------------------------------------------------------


class Rollback(Exception):
    pass


def timed(label: str, function, *arguments, **keywords):
    start = time.perf_counter()
    result = function(*arguments, **keywords)
    print(f"    {label:<44} {time.perf_counter() - start:8.2f} s")
    return result


def hotspot_stages(requester, acronym: str, run: AnalysisRun, resolution: int, rings: int):
    """The stages of a hot-spot run as separate calls on the same data; returns the study
    area's cells and counts, and the weights."""
    print("  the same stages as separate calls:")
    incidents = analysis_incidents(
        requester=requester, mission_id=None, incident_filter={"mission": [acronym]}
    )
    cells, counts, _ = timed(
        "cell_counts", cell_counts, incidents, resolution=resolution, measure="incidents"
    )
    area_cells, area_counts = timed("study_area", statistics.study_area, cells, counts, rings)
    weights = timed("hexagon_weights", statistics.hexagon_weights, area_cells, rings)
    hotspot = timed("gi_star", statistics.gi_star, area_counts, weights, permutations=0)
    timed("cell_polygons_hex_ewkb (part of cells_store)", cell_polygons_hex_ewkb, area_cells)
    try:
        with transaction.atomic():
            run_rows_delete(run.pk)
            timed(
                "cells_store",
                cells_store,
                run.pk,
                {
                    "cell": area_cells,
                    "incidents": area_counts,
                    "z_score": hotspot.z_score,
                    "p_value": hotspot.p_value,
                    "spot_class": hotspot.spot_class,
                },
            )
            raise Rollback
    except Rollback:
        pass
    print(
        f"  {len(cells):,} cells with incidents, {len(area_cells):,} cells in the study area "
        f"(resolution {resolution}, {rings} ring)"
    )
    return area_cells, area_counts, weights


def verdict(seconds: float, target: float) -> str:
    return f"target < {target:g} s: {'met' if seconds < target else 'MISSED'}"


def peak_memory() -> str:
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    # "auto": no resolution, the scale chosen from the data (geo.analyses.scales).
    parser.add_argument("--resolution", default="7")
    parser.add_argument("--rings", type=int, default=1)
    parser.add_argument("--permutation-incidents", type=int, default=50_000)
    parser.add_argument("--permutation-resolution", type=int, default=7)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--skip-permutations", action="store_true")
    arguments = parser.parse_args()

    requester = superuser()
    print(f"{os.cpu_count()} cores; runs requested by superuser {requester.username}")
    with benchmark_mission(ACRONYM, "Hot-spot benchmark mission") as (mission, contingent):
        for size in arguments.sizes:
            generated_incidents(size, contingent)
            asked = None if arguments.resolution == "auto" else int(arguments.resolution)
            parameters = {"resolution": asked, "rings": arguments.rings}
            print(f"  hot spots {parameters}, analytic p-values, FDR:")
            run = end_to_end(requester, "hotspots", parameters, ACRONYM, HOTSPOT_STAGES)
            if size == 1_000_000:
                print(f"  1,000,000 incidents end to end: {verdict(run.seconds, 15)}")
            resolution = run.result["summary"]["scale"]["resolution"]
            hotspot_stages(requester, ACRONYM, run, resolution, arguments.rings)
            print(f"  peak memory of the process so far {peak_memory()}")
            incidents_delete(mission)

        if arguments.skip_permutations:
            return
        size, resolution = arguments.permutation_incidents, arguments.permutation_resolution
        permutations = arguments.permutations
        print(f"\nPermutations: {permutations} on the study area of {size:,} incidents")
        generated_incidents(size, contingent, seed=7)
        parameters = {
            "resolution": resolution,
            "rings": arguments.rings,
            "permutations": permutations,
        }
        print(f"  hot spots {parameters}, FDR (first permutation run: numba compiles):")
        run = end_to_end(requester, "hotspots", parameters, ACRONYM, HOTSPOT_STAGES)
        area_cells, area_counts, weights = hotspot_stages(
            requester, ACRONYM, run, resolution, arguments.rings
        )
        start = time.perf_counter()
        statistics.gi_star(area_counts, weights, permutations=permutations)
        seconds = time.perf_counter() - start
        print(f"    {f'gi_star, {permutations} permutations (compiled)':<44} {seconds:8.2f} s")
        print(
            f"  {permutations} permutations on {len(area_cells):,} cells: end to end "
            f"{verdict(run.seconds, 60)}; gi_star alone {verdict(seconds, 60)}"
        )
        print(f"  peak memory of the process {peak_memory()}")


if __name__ == "__main__":
    main()
