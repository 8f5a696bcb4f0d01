"""The scale of a hot-spot analysis on the H3 grid: which resolution, chosen from the data,
and how stable its hot spots are across the neighbouring resolutions.

ArcGIS Pro's Optimized Hot Spot Analysis chooses its distance band by Incremental Spatial
Autocorrelation: Global Moran's I over increasing distances, the band where its z-score
peaks (the distance at which clustering is most pronounced). On the H3 grid the scale is the
resolution: each step coarser makes cells about seven times larger, so the candidates
5 to 9 (about 250 km² down to 0.1 km² a cell) are the increasing distances, and the
resolution whose Moran's I z-score is highest is chosen.

Pure numpy/PySAL over binned counts; imported in the worker only (it loads esda).
"""

from dataclasses import asdict, dataclass

import h3.api.numpy_int as h3_int
import numpy as np
from libpysal.graph import Graph

from geo.analyses import statistics
from geo.analyses.hexagons import points_binned
from geo.analyses.hotspots import FALLBACK, MINIMUM_CELLS, PEAK

CANDIDATE_RESOLUTIONS: tuple[int, ...] = (5, 6, 7, 8, 9)

# A candidate resolution is kept only when the cells with incidents hold at least 2 on
# average. Below that, most occupied cells hold a single incident, and a map of counts
# becomes a map of presence: Moran's I then measures how points lie next to each other, not
# where they concentrate, and its z-score keeps growing as cells shrink (more cells, the
# same clumps), which would always pick the finest grid. Two is the least mean at which a
# cell's count can say "more here than there"; ArcGIS's Optimized Hot Spot Analysis sizes
# its fishnet cells for several incidents each for the same reason.
MINIMUM_MEAN_INCIDENTS = 2.0


@dataclass(frozen=True)
class Candidate:
    resolution: int
    occupied_cells: int
    mean_incidents: float  # per occupied cell
    # In the study area (occupied cells and the rings around them); None when the mean
    # already rules the resolution out.
    cells: int | None
    morans_i: float | None
    z_score: float | None
    kept: bool

    def as_dict(self) -> dict:
        return asdict(self)


# (cells, counts of the measure, counts of incidents) at a resolution.
Binned = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class StudyArea:
    """The cells compared at a resolution (statistics.study_area), their counts, and their
    weights; no weights when there are fewer than MINIMUM_CELLS cells, too few to compare."""

    cells: np.ndarray
    counts: np.ndarray
    weights: Graph | None


class Grids:
    """An analysis's points on the H3 grid at any resolution: binned, and their study area
    with its weights, each computed once, since choosing the scale (Moran's I), Gi* and the
    stability figures read the same ones."""

    def __init__(self, points: np.ndarray, *, rings: int):
        self.points = points
        self.rings = rings
        # Empty cells beyond the points' extent are not known to be empty (study_area).
        self.hull = statistics.points_hull(points["latitude"], points["longitude"])
        self._binned: dict[int, Binned] = {}
        self._areas: dict[int, StudyArea] = {}

    def binned(self, resolution: int) -> Binned:
        if resolution not in self._binned:
            self._binned[resolution] = points_binned(self.points, resolution=resolution)
        return self._binned[resolution]

    def area(self, resolution: int) -> StudyArea:
        if resolution not in self._areas:
            cells, counts, _incidents = self.binned(resolution)
            area_cells, area_counts = statistics.study_area(
                cells, counts, self.rings, hull=self.hull
            )
            weights = (
                statistics.hexagon_weights(area_cells, self.rings)
                if len(area_cells) >= MINIMUM_CELLS
                else None
            )
            self._areas[resolution] = StudyArea(area_cells, area_counts, weights)
        return self._areas[resolution]


def candidate_assess(grids: Grids, resolution: int) -> Candidate:
    """Moran's I of a resolution's counts over the study area Gi* uses (the occupied cells
    and every cell within `rings` of one, inside the points' hull), with the same
    neighbourhood."""
    cells, _counts, incidents = grids.binned(resolution)
    occupied = len(cells)
    mean = float(incidents.sum() / occupied) if occupied else 0.0
    if mean < MINIMUM_MEAN_INCIDENTS:
        # A resolution too fine to keep is not worth its study area and weights (the finest
        # have the most cells): its Moran's I is left out.
        return Candidate(resolution, occupied, mean, None, None, None, False)
    area = grids.area(resolution)
    if area.weights is None:
        return Candidate(resolution, occupied, mean, len(area.cells), None, None, False)
    moran = statistics.global_morans_i(area.counts, area.weights)
    return Candidate(
        resolution, occupied, mean, len(area.cells), moran.morans_i, moran.z_score, True
    )


def resolution_choose(grids: Grids) -> tuple[int, str, list[Candidate]]:
    """The candidate resolution whose Moran's I z-score peaks, among those kept; the
    coarsest candidate when none is kept (too few incidents for any of them). Returns the
    resolution, why (PEAK or FALLBACK) and every candidate assessed."""
    candidates = [candidate_assess(grids, resolution) for resolution in CANDIDATE_RESOLUTIONS]
    kept = [candidate for candidate in candidates if candidate.kept]
    if not kept:
        return min(CANDIDATE_RESOLUTIONS), FALLBACK, candidates
    # Ties (equal z) go to the coarser resolution, the more cautious scale.
    best = max(kept, key=lambda candidate: (candidate.z_score, -candidate.resolution))
    return best.resolution, PEAK, candidates


def neighbouring_resolutions(resolution: int) -> list[int]:
    return [neighbour for neighbour in (resolution - 1, resolution + 1) if 0 <= neighbour <= 15]


def related_cells(cells: np.ndarray, resolution: int) -> list[np.ndarray]:
    """Each cell's parent at a coarser `resolution`, or its children at a finer one."""
    current = int(h3_int.get_resolution(int(cells[0]))) if len(cells) else resolution
    if resolution < current:
        return [np.array([h3_int.cell_to_parent(int(cell), resolution)]) for cell in cells]
    return [np.asarray(h3_int.cell_to_children(int(cell), resolution)) for cell in cells]


def also_significant(
    cells: np.ndarray,
    spot_class: np.ndarray,
    neighbour_cells: np.ndarray,
    neighbour_class: np.ndarray,
    resolution: int,
) -> np.ndarray:
    """For each of `cells` (significant at their resolution, `spot_class` ≠ 0), whether a
    related cell at the neighbouring `resolution` (its parent, or one of its children) is a
    spot of the same kind (hot with hot, cold with cold).

    H3 is not exactly hierarchical, so parent and children are close relations, not exact
    containment; that is enough to say that a hot spot persists across one step of scale.
    """
    order = np.argsort(neighbour_cells)
    sorted_cells = neighbour_cells[order]
    sorted_class = np.sign(neighbour_class[order])
    matched = np.zeros(len(cells), dtype=bool)
    if not len(sorted_cells):
        return matched
    for index, related in enumerate(related_cells(cells, resolution)):
        related = related.view(np.int64)
        slot = np.minimum(np.searchsorted(sorted_cells, related), len(sorted_cells) - 1)
        present = sorted_cells[slot] == related
        matched[index] = bool(np.any(sorted_class[slot][present] == np.sign(spot_class[index])))
    return matched
