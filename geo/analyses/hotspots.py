"""Hot spots: Getis-Ord Gi* on an H3 hexagon grid, classed as ArcGIS's Hot Spot Analysis
classes them (99/95/90 % hot or cold, with a false-discovery-rate correction).

Without a resolution from the analyst, the grid's scale is chosen from the data as ArcGIS
Pro's Optimized Hot Spot Analysis chooses it (geo.analyses.scales), and the result says
which scale and why, how many cells are significant, and whether its hot spots persist at
the neighbouring resolutions (the sentences: geo.analyses.hotspot_messages).
"""

from dataclasses import dataclass

import h3
import numpy as np
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from geo.analyses.errors import AnalysisError
from geo.analyses.hexagons import cell_centre, points_read
from geo.analyses.source import Progress

# Fewer cells than this and a local statistic says nothing.
MINIMUM_CELLS = 8
TOP_CELLS = 20
# Cells whose area is averaged for "about 36 km² per cell" (areas vary little within a view).
AREA_SAMPLE = 500
# A neighbouring resolution with more occupied cells than this is not compared for the
# stability figure: its study area and weights (about seven cells a cell, built one h3 call
# at a time) would cost more than the analysis itself, about 5 s for 80,000 cells.
STABILITY_MAX_OCCUPIED_CELLS = 50_000
# Why a resolution was used: the peak of Moran's I z among the kept candidates
# (geo.analyses.scales); the coarsest candidate when none was kept; the analyst's own.
PEAK, FALLBACK, ASKED = "peak", "coarsest", "analyst"


@dataclass(frozen=True)
class HotspotParameters:
    # None: chosen from the data (geo.analyses.scales).
    resolution: int | None = None
    rings: int = 1
    measure: str = "incidents"
    permutations: int = 0
    fdr: bool = True


def analyse(incidents: QuerySet, parameters: HotspotParameters, progress: Progress) -> dict:
    # Imported here, when an analysis runs in a worker: the web process never loads PySAL.
    from geo.analyses import scales

    points = points_read(incidents, measure=parameters.measure)
    progress(10)
    if len(points) == 0:
        raise AnalysisError(_("No incidents match the filter."))
    grids = scales.Grids(points, rings=parameters.rings)
    if parameters.resolution is None:
        resolution, reason, candidates = scales.resolution_choose(grids)
    else:
        resolution, reason = parameters.resolution, ASKED
        # The analyst's resolution, assessed as a candidate would be: the result says
        # whether it has enough incidents per cell and how clustered they are at it.
        candidates = [scales.candidate_assess(grids, resolution)]
    progress(30)
    area = grids.area(resolution)
    hotspot = _gi_star(area, parameters)
    if hotspot is None:
        raise AnalysisError(
            _("Gi* needs at least %(minimum)d cells; the filter gives %(cells)d.")
            % {"minimum": MINIMUM_CELLS, "cells": len(area.cells)}
        )
    progress(60)
    stability = _stability(area.cells, hotspot.spot_class, resolution, grids, parameters)
    progress(85)
    summary = _summary(area.cells, area.counts, hotspot)
    summary.update(
        incidents=float(grids.binned(resolution)[2].sum()),
        measure=parameters.measure,
        significant=_significant(hotspot),
        scale={
            "resolution": resolution,
            "rings": parameters.rings,
            "reason": reason,
            "cell_area_km2": _mean_cell_area_km2(area.cells),
            "candidates": [candidate.as_dict() for candidate in candidates],
            "minimum_mean_incidents": scales.MINIMUM_MEAN_INCIDENTS,
        },
        study_area=_study_area(area.cells, len(grids.binned(resolution)[0])),
        stability=stability,
        fdr=parameters.fdr,
        permutations=parameters.permutations,
    )
    return {
        "summary": summary,
        "cells": {
            "cell": area.cells,
            "incidents": area.counts,
            "z_score": hotspot.z_score,
            "p_value": hotspot.p_value,
            "spot_class": hotspot.spot_class,
        },
    }


def _gi_star(area, parameters: HotspotParameters):
    """Gi* over a study area (scales.StudyArea), or None when it has too few cells."""
    from geo.analyses import statistics

    if area.weights is None:
        return None
    return statistics.gi_star(
        area.counts, area.weights, permutations=parameters.permutations, fdr=parameters.fdr
    )


def _stability(area_cells, spot_class, resolution: int, grids, parameters) -> dict:
    """The cells significant at `resolution` that are spots of the same kind at one of its
    neighbouring resolutions (parent or children), and each neighbour's own figures."""
    from geo.analyses import scales

    significant = np.flatnonzero(spot_class != 0)
    stable = np.zeros(len(significant), dtype=bool)
    neighbours = []
    chosen_occupied = len(grids.binned(resolution)[0])
    for neighbour in scales.neighbouring_resolutions(resolution):
        # A finer grid has at least as many occupied cells: past the limit, it is not even
        # binned (about 1 s a million incidents).
        too_many = neighbour > resolution and chosen_occupied > STABILITY_MAX_OCCUPIED_CELLS
        occupied = chosen_occupied if too_many else len(grids.binned(neighbour)[0])
        if occupied > STABILITY_MAX_OCCUPIED_CELLS:
            neighbours.append(
                {"resolution": neighbour, "compared": False, "limit": STABILITY_MAX_OCCUPIED_CELLS}
            )
            continue
        neighbour_area = grids.area(neighbour)
        neighbour_spots = _gi_star(neighbour_area, parameters)
        if neighbour_spots is None:
            continue
        shared = scales.also_significant(
            area_cells[significant],
            spot_class[significant],
            neighbour_area.cells,
            neighbour_spots.spot_class,
            neighbour,
        )
        stable |= shared
        neighbours.append(
            {
                "resolution": neighbour,
                "compared": True,
                **_significant(neighbour_spots),
                "shared": int(shared.sum()),
            }
        )
    return {
        "significant": len(significant),
        "stable": int(stable.sum()),
        "neighbours": neighbours,
    }


def _significant(hotspot) -> dict:
    """How many cells are hot and cold spots, and how many would pass at 90 % without the
    false-discovery-rate correction (to say what the correction removed)."""
    spot_class = hotspot.spot_class
    return {
        "cells": int(np.count_nonzero(spot_class)),
        "hot": int(np.count_nonzero(spot_class > 0)),
        "cold": int(np.count_nonzero(spot_class < 0)),
        "uncorrected": int(np.count_nonzero(hotspot.p_value <= 0.10)),
    }


def _mean_cell_area_km2(cells: np.ndarray) -> float:
    sample = cells[:: max(1, len(cells) // AREA_SAMPLE)]
    return float(np.mean([h3.cell_area(h3.int_to_str(int(cell)), "km^2") for cell in sample]))


def _study_area(cells: np.ndarray, occupied: int) -> dict:
    """The cells compared, their area, and the box around them (west, south, east, north),
    to which the map zooms."""
    centres = np.array([cell_centre(cell) for cell in cells[:: max(1, len(cells) // 5000)]])
    return {
        "cells": len(cells),
        "occupied_cells": occupied,
        "area_km2": round(_mean_cell_area_km2(cells) * len(cells), 1),
        "bbox": [
            float(centres[:, 1].min()),
            float(centres[:, 0].min()),
            float(centres[:, 1].max()),
            float(centres[:, 0].max()),
        ],
    }


def _summary(cells, counts, hotspot) -> dict:
    from geo.analyses import statistics

    z_score, p_value, spot_class = hotspot.z_score, hotspot.p_value, hotspot.spot_class
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
