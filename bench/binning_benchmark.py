"""Binning incidents on H3 hexagons: each point in its own cell (geo.analyses.hexagons.
cell_counts) against the parent of its stored resolution-8 cell, computed in SQL (the code
cell_counts replaced, kept here as `parent_cell_counts`).

    .venv/bin/python bench/binning_benchmark.py [--sizes 100000 1000000] [--rounds 5]
        [--resolutions 6 7] [--drop-seed]

Data: seeded incidents kept between runs (bench/seeding.py): 100,000 in mission
BENCH-BINNING, 1,000,000 in BENCH-SEEDED (the import benchmark's; seeded here if missing,
about 20 minutes per million). Each is read as a scheduled run reads its mission's incidents
(analysis_incidents, mission readers' visibility).

For each size and resolution, `--rounds` interleaved rounds (the order alternating) of:
parent (today's code before issue 18), cell (cell_counts), and the same two with monthly
periods (as emerging hot spots ask). Prints each time with the load average before it, the
medians, the ratio cell/parent (target: within about 1.5), and how many points the parent
put in another hexagon than the one containing them.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "armsmonitor.settings")

import django

django.setup()

import h3  # noqa: E402
from django.db import connection  # noqa: E402

from bench.seeding import incidents_seed, seed_drop  # noqa: E402
from geo.analyses.hexagons import cell_counts  # noqa: E402
from geo.analyses.source import analysis_incidents, chosen_incidents_sql  # noqa: E402

SEEDS = {100_000: "BENCH-BINNING", 1_000_000: "BENCH-SEEDED"}


def parent_cell_sql(column: str, resolution: int) -> str:
    """The parent, at `resolution`, of the H3 cell in bigint `column` (the old code)."""
    unused_digits = (1 << (3 * (15 - resolution))) - 1
    return (
        f"(({column} & ~(15::bigint << 52)) | ({resolution}::bigint << 52)"
        f" | {unused_digits}::bigint)"
    )


def parent_cell_counts(incidents, *, resolution: int, period: str | None = None):
    """cell_counts as it was before issue 18 (measure "incidents"): exact locations by the
    parent of the stored resolution-8 cell, in SQL; generalised ones by h3 here."""
    sql, params = chosen_incidents_sql(incidents, "h3_cell", "occurred_at")
    period_column = "date_trunc(%s, occurred_at)::date" if period else "NULL::date"
    exact = "location_is_exact AND h3_cell IS NOT NULL"
    query = f"""
        WITH chosen AS ({sql})
        SELECT CASE WHEN {exact} THEN {parent_cell_sql("h3_cell", resolution)} END,
               CASE WHEN NOT ({exact}) THEN ST_Y(shown_location) END,
               CASE WHEN NOT ({exact}) THEN ST_X(shown_location) END,
               {period_column},
               sum(1)::float8
        FROM chosen
        GROUP BY 1, 2, 3, 4
    """
    with connection.cursor() as cursor:
        cursor.execute(query, (*params, *([period] if period else [])))
        rows = cursor.fetchall()
    cells = np.array(
        [
            cell
            if cell is not None
            else int(h3.latlng_to_cell(latitude, longitude, resolution), 16)
            for cell, latitude, longitude, _period, _count in rows
        ],
        dtype=np.int64,
    )
    counts = np.array([row[4] for row in rows], dtype=np.float64)
    periods = (
        np.array([row[3] for row in rows], dtype="datetime64[D]")
        if period
        else np.empty(0, "datetime64[D]")
    )
    return _merge_duplicates(cells, counts, periods)


def _merge_duplicates(cells, counts, periods):
    """Generalised points and exact ones can fall in the same cell: add them up (the old
    code's)."""
    keys = np.stack([cells, periods.astype(np.int64)]) if len(periods) else cells[None, :]
    unique_keys, inverse = np.unique(keys, axis=1, return_inverse=True)
    merged_counts = np.bincount(inverse.ravel(), weights=counts)
    merged_periods = (
        unique_keys[1].astype("datetime64[D]") if len(periods) else np.empty(0, "datetime64[D]")
    )
    return unique_keys[0], merged_counts, merged_periods


def load_average() -> str:
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def moved_points(incidents, resolution: int) -> tuple[int, int]:
    """(exactly located points whose stored cell's parent is not their cell, all of them)."""
    sql, params = chosen_incidents_sql(incidents, "h3_cell")
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH chosen AS ({sql}) SELECT ST_Y(shown_location), ST_X(shown_location),"
            f" {parent_cell_sql('h3_cell', resolution)} FROM chosen"
            " WHERE location_is_exact AND h3_cell IS NOT NULL",
            params,
        )
        rows = cursor.fetchall()
    moved = sum(
        int(h3.latlng_to_cell(latitude, longitude, resolution), 16) != parent
        for latitude, longitude, parent in rows
    )
    return moved, len(rows)


def compare(size: int, resolution: int, rounds: int) -> None:
    contingent = incidents_seed(SEEDS[size], size)
    incidents = analysis_incidents(
        requester=None, mission_id=contingent.mission_id, incident_filter={}
    )
    moved, exact = moved_points(incidents, resolution)
    print(
        f"{size:,} incidents, resolution {resolution}: {exact:,} exactly located, "
        f"{moved:,} ({moved / max(exact, 1):.1%}) of them put by the parent in another cell"
    )
    cases = {
        "parent": lambda: parent_cell_counts(incidents, resolution=resolution),
        "cell": lambda: cell_counts(incidents, resolution=resolution, measure="incidents"),
        "parent, months": lambda: parent_cell_counts(
            incidents, resolution=resolution, period="month"
        ),
        "cell, months": lambda: cell_counts(
            incidents, resolution=resolution, measure="incidents", period="month"
        ),
    }
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    totals = {}
    for number in range(rounds):
        names = list(cases) if number % 2 == 0 else list(reversed(cases))
        for name in names:
            print(f"  round {number + 1} {load_average()}  {name:<16}", end="", flush=True)
            start = time.perf_counter()
            _cells, counts, _periods = cases[name]()
            seconds[name].append(time.perf_counter() - start)
            totals[name] = counts.sum()
            print(f"{seconds[name][-1]:8.2f} s")
    if len(set(totals.values())) != 1:
        raise SystemExit(f"the cases counted different totals: {totals}")
    median = {name: float(np.median(times)) for name, times in seconds.items()}
    for plain in ("", ", months"):
        ratio = median[f"cell{plain}"] / median[f"parent{plain}"]
        print(
            f"  median parent{plain} {median[f'parent{plain}']:.2f} s, cell{plain} "
            f"{median[f'cell{plain}']:.2f} s: ratio {ratio:.2f} "
            f"(target <= 1.5: {'met' if ratio <= 1.5 else 'MISSED'})"
        )
    print(f"  {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--resolutions", type=int, nargs="+", default=[6, 7])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--drop-seed", action="store_true")
    arguments = parser.parse_args()
    if arguments.drop_seed:
        for acronym in SEEDS.values():
            seed_drop(acronym)
        print(f"Deleted missions {', '.join(SEEDS.values())} and their incidents.")
        return
    unknown = set(arguments.sizes) - set(SEEDS)
    if unknown:
        raise SystemExit(f"sizes are {', '.join(map(str, SEEDS))}, not {unknown}")
    print(f"{os.cpu_count()} cores")
    for size in arguments.sizes:
        for resolution in arguments.resolutions:
            compare(size, resolution, arguments.rounds)


if __name__ == "__main__":
    main()
