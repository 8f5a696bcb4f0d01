"""Writing the row-shaped parts of results (hexagons, clusters) next to the run, by COPY.

Called inside the transaction that marks the run done, so a run is never seen done with
half its rows, and a retried run replaces what an interrupted attempt left. Always on the
primary, also when the run read a replica: these are writes (the clusters' hulls are drawn
from the primary's rows of the incidents the run chose).
"""

import io

import numpy as np
from django.db import connection
from django.db.models import QuerySet

from geo.analyses.hexagons import cell_polygons_hex_ewkb
from geo.analyses.source import chosen_incidents_sql


def run_rows_delete(run_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM geo_analysiscell WHERE run_id = %s", [run_id])
        cursor.execute("DELETE FROM geo_incidentcluster WHERE run_id = %s", [run_id])


def cells_store(run_id: int, cells: dict[str, np.ndarray]) -> int:
    """Store hexagons: arrays `cell`, `incidents`, `z_score`, `p_value`, `spot_class` and,
    for emerging hot spots, `pattern`."""
    # Imported here, when an analysis runs in a worker: the web process never loads it.
    import pandas as pd

    count = len(cells["cell"])
    rows = pd.DataFrame(
        {
            "run_id": np.full(count, run_id),
            "cell": cells["cell"],
            "incidents": np.rint(cells["incidents"]).astype(np.int64),
            # Gi* gives no value where a cell has no variance: stored as NULL.
            "z_score": np.where(np.isfinite(cells["z_score"]), cells["z_score"], np.nan),
            "p_value": np.where(np.isfinite(cells["p_value"]), cells["p_value"], np.nan),
            "spot_class": cells["spot_class"].astype(np.int64),
            "pattern": cells.get("pattern", np.full(count, "", dtype=object)),
            "boundary": cell_polygons_hex_ewkb(cells["cell"]),
        }
    )
    buffer = io.StringIO()
    rows.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N", float_format="%.17g")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY geo_analysiscell (run_id, cell, incidents, z_score, p_value, spot_class,"
            " pattern, boundary) FROM STDIN",
            buffer,
        )
    return count


def clusters_store(run_id: int, incidents: QuerySet, members: dict[str, np.ndarray]) -> int:
    """Store one row per cluster (hull, centroid, counts, dates) from `incident` and
    `label` arrays, computing the geometry in PostGIS."""
    buffer = io.StringIO(
        "".join(
            f"{incident}\t{label}\n"
            for incident, label in zip(members["incident"], members["label"], strict=True)
        )
    )
    sql, params = chosen_incidents_sql(incidents, "occurred_at")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE cluster_member (incident_id bigint, label integer)"
            " ON COMMIT DROP"
        )
        cursor.copy_expert("COPY cluster_member FROM STDIN", buffer)
        # Without statistics the planner guesses millions of members and plans for them.
        cursor.execute("ANALYZE cluster_member")
        cursor.execute(
            f"""
            WITH chosen AS ({sql})
            INSERT INTO geo_incidentcluster (run_id, label, incidents, weapons,
                first_occurred_at, last_occurred_at, centroid, hull)
            SELECT %s, member.label, count(*), coalesce(sum(seized.weapons), 0),
                   min(chosen.occurred_at), max(chosen.occurred_at),
                   ST_Centroid(ST_Collect(chosen.shown_location)),
                   ST_ConvexHull(ST_Collect(chosen.shown_location))
            FROM cluster_member AS member
            JOIN chosen ON chosen.id = member.incident_id
            LEFT JOIN (SELECT incident_id, sum(quantity) AS weapons
                       FROM incidents_weaponitem GROUP BY incident_id) AS seized
                   ON seized.incident_id = member.incident_id
            GROUP BY member.label
            """,
            (*params, run_id),
        )
        stored = cursor.rowcount
        cursor.execute("DROP TABLE cluster_member")
    return stored
