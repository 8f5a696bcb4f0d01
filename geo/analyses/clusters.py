"""Density-based clusters of incidents (DBSCAN with a distance in metres).

scikit-learn's DBSCAN runs on the points as 3-D positions on the unit sphere: the straight
(chord) distance between two such positions grows with their great-circle distance, so a
chord radius matching `distance_m` gives exactly the neighbourhoods of a great-circle
radius, and a fast k-d tree can find them.
"""

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from django.db import connections
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from geo.analyses.errors import AnalysisError
from geo.analyses.source import Progress, chosen_incidents_sql

if TYPE_CHECKING:
    import pandas as pd

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class ClusterParameters:
    distance_m: float = 2000.0
    min_incidents: int = 5


def incident_points(incidents: QuerySet) -> "pd.DataFrame":
    """id, longitude, latitude of the chosen incidents, read in one COPY."""
    # Imported here, when an analysis runs in a worker: the web process never loads it.
    import pandas as pd

    sql, params = chosen_incidents_sql(incidents)
    with connections[incidents.db].cursor() as cursor:
        query = cursor.mogrify(
            f"SELECT id, ST_X(shown_location), ST_Y(shown_location) FROM ({sql}) AS chosen",
            params,
        ).decode()
        buffer = io.StringIO()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT", buffer)
    buffer.seek(0)
    return pd.read_csv(
        buffer,
        sep="\t",
        header=None,
        names=["id", "longitude", "latitude"],
        dtype={"id": np.int64, "longitude": np.float64, "latitude": np.float64},
    )


def unit_sphere_positions(longitude: np.ndarray, latitude: np.ndarray) -> np.ndarray:
    lon, lat = np.radians(longitude), np.radians(latitude)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def chord_of(distance_m: float) -> float:
    return 2 * np.sin(distance_m / (2 * EARTH_RADIUS_M))


def dbscan_labels(points: "pd.DataFrame", parameters: ClusterParameters) -> np.ndarray:
    """Cluster label per point (−1: noise)."""
    # Imported here, when an analysis runs in a worker: the web process never loads it.
    from sklearn.cluster import DBSCAN

    positions = unit_sphere_positions(points["longitude"].to_numpy(), points["latitude"].to_numpy())
    model = DBSCAN(
        eps=chord_of(parameters.distance_m),
        min_samples=parameters.min_incidents,
        algorithm="kd_tree",
        n_jobs=-1,
    )
    return model.fit_predict(positions)


def analyse(incidents: QuerySet, parameters: ClusterParameters, progress: Progress) -> dict:
    points = incident_points(incidents)
    progress(20)
    if points.empty:
        raise AnalysisError(_("No incidents match the filter."))
    labels = dbscan_labels(points, parameters)
    progress(70)
    clustered = labels >= 0
    return {
        "summary": {
            "incidents": len(points),
            "clusters": int(labels.max() + 1) if clustered.any() else 0,
            "incidents_in_clusters": int(clustered.sum()),
            "noise": int((~clustered).sum()),
        },
        "cluster_members": {
            "incident": points["id"].to_numpy()[clustered],
            "label": labels[clustered],
        },
    }
