"""Clustering speed, end to end, against scikit-learn's DBSCAN alone and PostGIS's.

    .venv/bin/python bench/clusters_benchmark.py [--sizes 10000 100000 1000000]
        [--distance 1000] [--min-incidents 5] [--skip-postgis] [--skip-neighbours]

For each size, the same generated incidents as bench/hotspots_benchmark.py (its
`generate_points`: 70 % around 300 towns with a spread of a few km, 30 % uniform over the
Central African Republic's bounding box; verified, exactly located, in a mission of the
script's own), COPYed into incidents_incident and ANALYZEd. Then, with `--distance` metres
and `--min-incidents`:

- end to end: analysis_run_request() by a superuser, filtered on the mission, then
  analysis_run_execute() as a worker calls it: read the points (COPY), DBSCAN, store the
  clusters (members by COPY, hulls and centroids in PostGIS); with its stages;
- fit: sklearn.cluster.DBSCAN(...).fit on the same points already in memory, prepared as
  geo.analyses.clusters prepares them (positions on the unit sphere, the chord of the
  distance as eps, k-d tree, all cores): the reference;
- PostGIS: SELECT count(DISTINCT cid) FROM (SELECT ST_ClusterDBSCAN(...) OVER () ...) over
  the same incidents, on their geometry transformed to UTM 34N (EPSG:32634, metres; CAR lies
  across zones 33–35, so distances near its east and west ends are off by up to about 0.6 %).

Also (unless --skip-neighbours) how many points lie within the distance of each point, which
is what DBSCAN holds in memory (8 bytes a neighbour), and the process's peak memory.

Prints the times, the clusters each found and the ratio end to end / fit (target <= 2).
Everything the script creates is deleted at the end, also after an error or Ctrl-C.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.db import connection

# Sets Django up: import it before anything that reads models or settings.
from hotspots_benchmark import (
    benchmark_mission,
    end_to_end,
    generated_incidents,
    incidents_delete,
    peak_memory,
    superuser,
)
from sklearn.cluster import DBSCAN
from sklearn.neighbors import KDTree

from geo.analyses.clusters import chord_of, incident_points, unit_sphere_positions
from geo.analyses.source import analysis_incidents

ACRONYM = "BENCH-CLUSTERS"
UTM_34N = 32634

CLUSTER_STAGES = [
    ("start", "requested", "request: filter, fingerprint, run row"),
    ("requested", "progress 20", "claim, incident_points (COPY out)"),
    ("progress 20", "progress 70", "dbscan_labels (positions, fit)"),
    ("progress 70", "store start", "summary"),
    ("store start", "clusters_store start", "lock run, delete earlier rows"),
    ("clusters_store start", "clusters_store end", "clusters_store (members, hulls)"),
    ("clusters_store end", "store end", "result, state, commit"),
    ("store end", "executed", "after store"),
]


def postgis_clusters(mission_id: int, distance_m: float, min_incidents: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(DISTINCT cid) FROM (
                SELECT ST_ClusterDBSCAN(ST_Transform(location, %s), eps := %s,
                                        minpoints := %s) OVER () AS cid
                FROM incidents_incident WHERE mission_id = %s
            ) AS clustered
            """,
            [UTM_34N, distance_m, min_incidents, mission_id],
        )
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--distance", type=float, default=1000.0, help="metres")
    parser.add_argument("--min-incidents", type=int, default=5)
    parser.add_argument("--skip-postgis", action="store_true")
    parser.add_argument("--skip-neighbours", action="store_true")
    arguments = parser.parse_args()
    distance, min_incidents = arguments.distance, arguments.min_incidents

    requester = superuser()
    print(
        f"{os.cpu_count()} cores; runs requested by superuser {requester.username}; "
        f"distance {distance:g} m, min_incidents {min_incidents}"
    )
    with benchmark_mission(ACRONYM, "Clusters benchmark mission") as (mission, contingent):
        for size in arguments.sizes:
            generated_incidents(size, contingent)
            parameters = {"distance_m": distance, "min_incidents": min_incidents}
            print(f"  clusters {parameters}:")
            run = end_to_end(requester, "clusters", parameters, ACRONYM, CLUSTER_STAGES)
            summary = run.result["summary"]
            print(
                f"    {summary['clusters']:,} clusters, {summary['incidents_in_clusters']:,} "
                f"incidents in clusters, {summary['noise']:,} noise; "
                f"peak memory so far {peak_memory()}"
            )

            incidents = analysis_incidents(
                requester=requester, mission_id=None, incident_filter={"mission": [ACRONYM]}
            )
            points = incident_points(incidents)
            positions = unit_sphere_positions(
                points["longitude"].to_numpy(), points["latitude"].to_numpy()
            )
            eps = chord_of(distance)
            start = time.perf_counter()
            model = DBSCAN(eps=eps, min_samples=min_incidents, algorithm="kd_tree", n_jobs=-1).fit(
                positions
            )
            fit = time.perf_counter() - start
            fit_clusters = int(model.labels_.max() + 1)
            print(
                f"  fit (scikit-learn DBSCAN on {len(positions):,} points in memory) "
                f"{fit:8.2f} s, {fit_clusters:,} clusters; peak memory so far {peak_memory()}"
            )
            del model

            if not arguments.skip_postgis:
                start = time.perf_counter()
                found = postgis_clusters(mission.pk, distance, min_incidents)
                print(
                    f"  PostGIS ST_ClusterDBSCAN (UTM 34N) {time.perf_counter() - start:8.2f} s, "
                    f"{found:,} clusters"
                )

            if not arguments.skip_neighbours:
                within = KDTree(positions).query_radius(positions, eps, count_only=True)
                print(
                    f"  points within {distance:g} m of a point (itself included): mean "
                    f"{within.mean():,.1f}, max {within.max():,}; DBSCAN holds "
                    f"{within.sum() * 8 / 1e6:,.0f} MB of neighbour indices"
                )

            ratio = run.seconds / fit
            print(
                f"  end to end {run.seconds:.2f} s / fit {fit:.2f} s = {ratio:.2f} "
                f"(target <= 2: {'met' if ratio <= 2 else 'MISSED'})"
            )
            incidents_delete(mission)


if __name__ == "__main__":
    main()
