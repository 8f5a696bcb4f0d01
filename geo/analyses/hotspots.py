"""Hot spots: Getis-Ord Gi* on an H3 hexagon grid, classed as ArcGIS's Hot Spot Analysis
classes them (99/95/90 % hot or cold, with a false-discovery-rate correction)."""

from dataclasses import dataclass

import numpy as np
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from geo.analyses.errors import AnalysisError
from geo.analyses.hexagons import cell_centre, cell_counts
from geo.analyses.source import Progress

# Fewer cells than this and a local statistic says nothing.
MINIMUM_CELLS = 8
TOP_CELLS = 20


@dataclass(frozen=True)
class HotspotParameters:
    resolution: int = 7
    rings: int = 1
    measure: str = "incidents"
    permutations: int = 0
    fdr: bool = True


def analyse(incidents: QuerySet, parameters: HotspotParameters, progress: Progress) -> dict:
    # Imported here, when an analysis runs in a worker: the web process never loads PySAL.
    from geo.analyses import statistics

    cells, counts, _periods = cell_counts(
        incidents, resolution=parameters.resolution, measure=parameters.measure
    )
    progress(20)
    if len(cells) == 0:
        raise AnalysisError(_("No incidents match the filter."))
    area_cells, area_counts = statistics.study_area(cells, counts, parameters.rings)
    if len(area_cells) < MINIMUM_CELLS:
        raise AnalysisError(
            _("Gi* needs at least %(minimum)d cells; the filter gives %(cells)d.")
            % {"minimum": MINIMUM_CELLS, "cells": len(area_cells)}
        )
    weights = statistics.hexagon_weights(area_cells, parameters.rings)
    progress(40)
    hotspot = statistics.gi_star(
        area_counts, weights, permutations=parameters.permutations, fdr=parameters.fdr
    )
    spot_class = hotspot.spot_class
    progress(80)
    return {
        "summary": _summary(area_cells, area_counts, hotspot.z_score, hotspot.p_value, spot_class),
        "cells": {
            "cell": area_cells,
            "incidents": area_counts,
            "z_score": hotspot.z_score,
            "p_value": hotspot.p_value,
            "spot_class": spot_class,
        },
    }


def _summary(cells, counts, z_score, p_value, spot_class) -> dict:
    from geo.analyses import statistics

    classes, cells_per_class = np.unique(spot_class, return_counts=True)
    hottest = np.argsort(-z_score, kind="stable")[:TOP_CELLS]
    return {
        "cells": len(cells),
        "cells_with_incidents": int(np.count_nonzero(counts)),
        "total": float(counts.sum()),
        "cells_per_class": {
            statistics.SPOT_CLASS_LABELS[int(spot)]: int(number)
            for spot, number in zip(classes, cells_per_class, strict=True)
        },
        "hottest": [
            {
                "cell": format(int(cells[i]), "x"),
                "centre": list(cell_centre(cells[i])),
                "count": float(counts[i]),
                "z_score": round(float(z_score[i]), 4),
                "p_value": float(p_value[i]),
                "class": statistics.SPOT_CLASS_LABELS[int(spot_class[i])],
            }
            for i in hottest
        ],
    }
