"""Emerging hot spots: Gi* per time step on one hexagon grid, then a Mann-Kendall trend
test of each cell's z-scores, classed after Esri's Emerging Hot Spot Analysis (new,
consecutive, intensifying, persistent, diminishing, sporadic, oscillating, historical)."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from geo.analyses.errors import AnalysisError
from geo.analyses.hexagons import cell_counts
from geo.analyses.hotspots import MINIMUM_CELLS
from geo.analyses.source import Progress

if TYPE_CHECKING:
    import pandas as pd

PANDAS_FREQUENCY = {"month": "M", "quarter": "Q", "year": "Y"}


@dataclass(frozen=True)
class EmergingParameters:
    resolution: int = 7
    rings: int = 1
    period: str = "month"
    steps: int = 12


def time_steps(period_starts: np.ndarray, *, period: str, steps: int) -> "pd.DatetimeIndex":
    """The start dates of the last `steps` periods, ending with the latest one that has
    data; periods without incidents count as steps of zero."""
    import pandas as pd

    latest = pd.Timestamp(period_starts.max())
    return pd.period_range(
        end=latest.to_period(PANDAS_FREQUENCY[period]), periods=steps
    ).to_timestamp()


def analyse(incidents: QuerySet, parameters: EmergingParameters, progress: Progress) -> dict:
    # Imported here, when an analysis runs in a worker: the web process never loads them.
    import pandas as pd

    from geo.analyses import statistics

    cells, counts, periods = cell_counts(
        incidents, resolution=parameters.resolution, measure="incidents", period=parameters.period
    )
    if len(cells) == 0:
        raise AnalysisError(_("No incidents match the filter."))
    starts = time_steps(periods, period=parameters.period, steps=parameters.steps)
    step_of = {start.date(): index for index, start in enumerate(starts)}
    step = np.array([step_of.get(pd.Timestamp(value).date(), -1) for value in periods])
    in_window = step >= 0
    cells, counts, step = cells[in_window], counts[in_window], step[in_window]
    data_cells, cell_index = np.unique(cells, return_inverse=True)
    totals = np.bincount(cell_index, weights=counts)
    area_cells, _area_totals = statistics.study_area(data_cells, totals, parameters.rings)
    if len(area_cells) < MINIMUM_CELLS:
        raise AnalysisError(
            _("Gi* needs at least %(minimum)d cells; the filter gives %(cells)d.")
            % {"minimum": MINIMUM_CELLS, "cells": len(area_cells)}
        )
    # Counts per cell of the study area and step: cells × steps, zeros where nothing happened.
    cube = np.zeros((len(area_cells), parameters.steps))
    np.add.at(cube, (np.searchsorted(area_cells, cells), step), counts)
    weights = statistics.hexagon_weights(area_cells, parameters.rings)
    progress(30)
    z_by_step = np.empty_like(cube)
    p_by_step = np.empty_like(cube)
    for index in range(parameters.steps):
        hotspot = statistics.gi_star(cube[:, index], weights)
        z_by_step[:, index], p_by_step[:, index] = hotspot.z_score, hotspot.p_value
        progress(30 + int(50 * (index + 1) / parameters.steps))
    patterns = statistics.emerging_patterns(z_by_step, p_by_step)
    trend_z, trend_p = statistics.mann_kendall(z_by_step)
    final_class = statistics.spot_classes(z_by_step[:, -1], p_by_step[:, -1])
    names, cells_per_pattern = np.unique(patterns.astype(str), return_counts=True)
    return {
        "summary": {
            "cells": len(area_cells),
            "steps": [start.date().isoformat() for start in starts],
            "incidents_in_window": float(cube.sum()),
            "cells_per_pattern": {
                str(name): int(number)
                for name, number in zip(names, cells_per_pattern, strict=True)
            },
        },
        "cells": {
            "cell": area_cells,
            "incidents": cube.sum(axis=1),
            "z_score": trend_z,
            "p_value": trend_p,
            "spot_class": final_class,
            "pattern": patterns,
        },
    }
