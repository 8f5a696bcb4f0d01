"""A kernel density surface of incidents for the heat layer.

Counts go onto a regular grid in SQL; a Gaussian filter over the grid then gives the kernel
density estimate (binned KDE, the usual fast approximation of a Gaussian kernel). The grid
step is in degrees, chosen so that a cell is `cell_size_m` across at the data's mean
latitude.
"""

import math
from dataclasses import dataclass

import numpy as np
from django.db import connections
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from geo.analyses.errors import AnalysisError
from geo.analyses.source import Progress, chosen_incidents_sql

METRES_PER_DEGREE_LATITUDE = 110_574.0
METRES_PER_DEGREE_LONGITUDE_AT_EQUATOR = 111_320.0
MAXIMUM_GRID_CELLS = 4_000_000
# Beyond three standard deviations a Gaussian kernel adds nothing visible.
KERNEL_REACH = 3
MAXIMUM_POINTS = 50_000


@dataclass(frozen=True)
class DensityParameters:
    cell_size_m: float = 2000.0
    bandwidth_m: float = 10_000.0


def analyse(incidents: QuerySet, parameters: DensityParameters, progress: Progress) -> dict:
    sql, params = chosen_incidents_sql(incidents)
    with connections[incidents.db].cursor() as cursor:
        cursor.execute(
            f"""WITH chosen AS ({sql})
            SELECT count(*), min(ST_X(shown_location)), min(ST_Y(shown_location)),
                   max(ST_X(shown_location)), max(ST_Y(shown_location)),
                   avg(ST_Y(shown_location)) FROM chosen""",
            params,
        )
        total, west, south, east, north, mean_latitude = cursor.fetchone()
    if not total:
        raise AnalysisError(_("No incidents match the filter."))
    step_y = parameters.cell_size_m / METRES_PER_DEGREE_LATITUDE
    step_x = parameters.cell_size_m / (
        METRES_PER_DEGREE_LONGITUDE_AT_EQUATOR * max(math.cos(math.radians(mean_latitude)), 0.01)
    )
    margin = KERNEL_REACH * parameters.bandwidth_m / parameters.cell_size_m
    origin_x = west - margin * step_x
    origin_y = south - margin * step_y
    columns = int((east - origin_x) / step_x + margin) + 1
    rows = int((north - origin_y) / step_y + margin) + 1
    if rows * columns > MAXIMUM_GRID_CELLS:
        raise AnalysisError(
            _(
                "cell_size_m: a %(size)s m grid over these incidents would have %(cells)s "
                "cells (at most %(maximum)s); choose larger cells or a smaller area."
            )
            % {
                "size": f"{parameters.cell_size_m:g}",
                "cells": f"{rows * columns:,}",
                "maximum": f"{MAXIMUM_GRID_CELLS:,}",
            }
        )
    with connections[incidents.db].cursor() as cursor:
        cursor.execute(
            f"""WITH chosen AS ({sql})
            SELECT floor((ST_Y(shown_location) - %s) / %s)::int,
                   floor((ST_X(shown_location) - %s) / %s)::int, count(*)
            FROM chosen GROUP BY 1, 2""",
            (*params, origin_y, step_y, origin_x, step_x),
        )
        binned = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 3)
    progress(40)
    # Imported here, when an analysis runs in a worker: the web process never loads it.
    from scipy.ndimage import gaussian_filter

    grid = np.zeros((rows, columns))
    grid[binned[:, 0], binned[:, 1]] = binned[:, 2]
    smoothed = gaussian_filter(
        grid, sigma=parameters.bandwidth_m / parameters.cell_size_m, mode="constant"
    )
    cell_area_km2 = (parameters.cell_size_m / 1000) ** 2
    density = smoothed / cell_area_km2
    progress(80)
    return {
        "summary": {"incidents": total},
        **_surface(density, origin_x, origin_y, step_x, step_y),
    }


def _surface(density, origin_x, origin_y, step_x, step_y) -> dict:
    """The grid as heat-layer points (cell centres), strongest first, dropping cells below
    1 % of the peak."""
    peak = float(density.max())
    row_index, column_index = np.nonzero(density >= 0.01 * peak)
    values = density[row_index, column_index]
    strongest = np.argsort(-values, kind="stable")[:MAXIMUM_POINTS]
    return {
        "unit": "incidents per km²",
        "peak": peak,
        "grid": {
            "origin": [origin_x, origin_y],
            "step": [step_x, step_y],
            "shape": list(density.shape),
        },
        "points": [
            [
                round(origin_y + (row_index[i] + 0.5) * step_y, 6),
                round(origin_x + (column_index[i] + 0.5) * step_x, 6),
                round(float(values[i]), 6),
            ]
            for i in strongest
        ],
    }
