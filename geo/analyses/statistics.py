"""Hot-spot statistics on an H3 hexagon grid: Getis-Ord Gi* classed as ArcGIS Pro classes it,
and emerging hot spots over time steps.

Pure numpy/PySAL over arrays: the analyses count incidents per cell in SQL and pass the counts
here. Cells are H3 ids as int64, all at one resolution.
"""

from dataclasses import dataclass

import esda
import h3.api.numpy_int as h3_int
import numpy as np
from esda.crand import crand
from esda.getisord import _g_local_star_crand
from libpysal.graph import Graph
from scipy import sparse, stats
from scipy.spatial import ConvexHull, Delaunay, QhullError

# ArcGIS's Gi_Bin: ±3, ±2, ±1 for 99, 95 and 90 % confidence.
CONFIDENCE_LEVELS: tuple[tuple[int, float], ...] = ((1, 0.10), (2, 0.05), (3, 0.01))

SPOT_CLASS_LABELS: dict[int, str] = {
    3: "hot_99",
    2: "hot_95",
    1: "hot_90",
    0: "not_significant",
    -1: "cold_90",
    -2: "cold_95",
    -3: "cold_99",
}

EMERGING_PATTERNS: tuple[str, ...] = (
    *(
        f"{pattern}_{kind}"
        for kind in ("hot", "cold")
        for pattern in (
            "new",
            "consecutive",
            "intensifying",
            "persistent",
            "diminishing",
            "sporadic",
            "oscillating",
            "historical",
        )
    ),
    "no_pattern",
)

# A trend in a cell's Gi* z-scores over time steps is significant at 95 % confidence.
TREND_ALPHA = 0.05


@dataclass(frozen=True)
class HotspotStatistics:
    """Per cell, aligned with the counts: Gi* z-score, two-sided p-value, and the class of
    `SPOT_CLASS_LABELS`."""

    z_score: np.ndarray
    p_value: np.ndarray
    spot_class: np.ndarray


def study_area(
    cells: np.ndarray, counts: np.ndarray, rings: int, *, hull: Delaunay | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The cells with data and every cell within `rings` grid steps of one, sorted by cell id;
    counts aligned, 0 for the added cells.

    Gi* compares a cell's neighbourhood with the whole study area, so the empty cells around
    the data belong in it (as in the fishnet of ArcGIS's hot spot analysis); empty cells far
    from any data would only lower the mean and make every busy cell look hot, so the area
    stops `rings` steps out.

    With `hull` (`points_hull` of the points counted), an empty cell whose centre lies outside
    the points' convex hull is left out too: beyond the data's extent a cell is not known to
    be empty (the filter, a map view's box, stopped there), and counting it as 0 made evenly
    spread incidents look hot wherever they were, against the zeros around them.
    """
    cells = np.asarray(cells, dtype=np.int64)
    counts = np.asarray(counts)
    if cells.shape != counts.shape or cells.ndim != 1:
        raise ValueError("cells and counts must be one-dimensional and of the same length")
    if rings < 0:
        raise ValueError("rings must be 0 or more")
    if np.unique(cells).size != cells.size:
        raise ValueError("each cell must appear once")
    if cells.size == 0:
        return cells, counts
    _require_one_resolution(cells)
    _, surroundings = _grid_disks(cells, rings)
    if hull is not None:
        # Only the empty cells are tested (one h3 call each): cells with data always stay.
        surroundings = np.setdiff1d(surroundings, cells)
        surroundings = surroundings[_inside(hull, surroundings)]
    area = np.unique(np.concatenate([cells, surroundings]))
    area_counts = np.zeros(area.size, dtype=counts.dtype)
    area_counts[np.searchsorted(area, cells)] = counts
    return area, area_counts


def points_hull(latitudes: np.ndarray, longitudes: np.ndarray) -> Delaunay | None:
    """The convex hull of points (in degrees, as a plane: the extent of a region, not of the
    globe), as a triangulation that tells points inside from points outside; None for fewer
    than three points or points on one line, which enclose nothing."""
    points = np.unique(np.column_stack([longitudes, latitudes]), axis=0)
    if len(points) < 3:
        return None
    try:
        return Delaunay(points[ConvexHull(points).vertices])
    except QhullError:
        return None


def _inside(hull: Delaunay, cells: np.ndarray) -> np.ndarray:
    centres = np.array([h3_int.cell_to_latlng(cell) for cell in cells.tolist()]).reshape(-1, 2)
    return hull.find_simplex(centres[:, ::-1]) >= 0


def hexagon_weights(cells: np.ndarray, rings: int) -> Graph:
    """Binary spatial weights: each cell's neighbours are the other cells of `cells` within
    `rings` grid steps. The cell itself is not its own neighbour (Gi* adds it).

    The graph's ids are positions in `cells`, not cell ids, so that it lines up with the counts
    whatever order the cells come in.
    """
    cells = np.asarray(cells, dtype=np.int64)
    if cells.ndim != 1 or cells.size == 0:
        raise ValueError("cells must be a non-empty one-dimensional array")
    if rings < 1:
        raise ValueError("rings must be 1 or more")
    order = np.argsort(cells)
    sorted_cells = cells[order]
    if np.any(sorted_cells[1:] == sorted_cells[:-1]):
        raise ValueError("each cell must appear once")

    sizes, disk_cells = _grid_disks(cells, rings)
    focal = np.repeat(np.arange(cells.size), sizes)
    slot = np.minimum(np.searchsorted(sorted_cells, disk_cells), cells.size - 1)
    neighbour = order[slot]
    keep = (sorted_cells[slot] == disk_cells) & (neighbour != focal)
    adjacency = sparse.csr_array(
        (np.ones(np.count_nonzero(keep)), (focal[keep], neighbour[keep])),
        shape=(cells.size, cells.size),
    )
    # A Graph from a sparse matrix, not a W built from dicts of lists: 0.2 s against 1 s for
    # 100,000 cells.
    return Graph.from_sparse(adjacency)


def gi_star(
    counts: np.ndarray,
    weights: Graph,
    permutations: int = 0,
    seed: int = 12345,
    *,
    fdr: bool = True,
    n_jobs: int = 1,
) -> HotspotStatistics:
    """Getis-Ord Gi* per cell with binary weights, the cell counted in its own neighbourhood.

    p-values are two-sided. Without permutations they come from the normal approximation,
    2·(1 − Φ(|z|)). With permutations they are pseudo p-values from esda's conditional
    permutations (`seed` makes them reproducible): the smaller of the two tails, doubled,
    min(1, 2·(min(#draws ≥ G, #draws ≤ G) + 1)/(permutations + 1)). The z-score is the
    analytic one in both cases, as in ArcGIS.

    A cell whose neighbourhood is the whole study area, or every cell when all counts are
    equal, has nothing to be compared with: z 0, p 1.

    `n_jobs` > 1 runs the permutations in that many processes (-1: one per core); it pays
    off only with many cores, and numba compiles esda's kernels afresh in each process.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.shape != (weights.n,):
        raise ValueError(f"{counts.size} counts for {weights.n} cells")
    if np.all(counts == counts[0]):
        z_score = np.zeros(counts.size)
        p_value = np.ones(counts.size)
    else:
        # esda divides by a zero variance for a cell whose neighbourhood is every cell.
        with np.errstate(divide="ignore", invalid="ignore"):
            local = esda.G_Local(counts, weights, transform="B", star=True, permutations=0)
        comparable = np.isfinite(local.Zs)
        z_score = np.where(comparable, local.Zs, 0.0)
        if permutations:
            p_value = _permutation_p_values(local, permutations, seed, n_jobs)
        else:
            p_value = 2 * stats.norm.sf(np.abs(z_score))
        p_value[~comparable] = 1.0
    return HotspotStatistics(
        z_score=z_score, p_value=p_value, spot_class=spot_classes(z_score, p_value, fdr=fdr)
    )


def _permutation_p_values(
    local: esda.G_Local, permutations: int, seed: int, n_jobs: int
) -> np.ndarray:
    # G_Local's own p_sim is esda's "directed" pseudo p-value, (min(#draws ≥ G, #draws < G)
    # + 1)/(P + 1): a tie counts against the upper tail but never for the lower one. Counts
    # are full of ties: a cell among empty cells has G = 0, as have half its draws, and
    # p_sim calls it a cold spot with p = 1/(P + 1). So we count each tail with ties included,
    # from esda's own conditional permutations (same kernel, same seed, hence the same
    # draws for both tails), and double the smaller one.
    star = local.w  # esda's binary weights with w_ii = 1
    # Unscaled (scaling 1, observed Σ_j w_ij x_j rather than G): esda's kernels are compiled
    # with fastmath, which may divide by multiplying with a reciprocal and move a draw off a
    # tie by one ulp. Sums of integer counts are exact in any order.
    observed = star.sparse @ local.y
    tails = []
    for alternative in ("greater", "lesser"):
        p_sim, _ = crand(
            local.y,
            # crand zeroes the diagonal of the matrix it reads: each run gets a copy.
            star.copy(),
            observed,
            permutations,
            keep=False,
            n_jobs=n_jobs,
            stat_func=_g_local_star_crand,
            scaling=1.0,
            seed=seed,
            alternative=alternative,
        )
        # esda returns (#draws + 1)/(P + 1) as float32; recover the exact fraction.
        tails.append(np.rint(p_sim.astype(np.float64) * (permutations + 1)))
    return np.minimum(1.0, 2 * np.minimum(*tails) / (permutations + 1))


def spot_classes(z_score: np.ndarray, p_value: np.ndarray, fdr: bool = True) -> np.ndarray:
    """ArcGIS Pro's Gi_Bin: ±3, ±2, ±1 for a hot (+) or cold (−) spot at 99, 95 or 90 %
    confidence, 0 when not significant; labels in `SPOT_CLASS_LABELS`.

    A cell is significant at a level when its p-value is at most alpha (0.01, 0.05, 0.10), or,
    with `fdr`, at most that level's Benjamini–Hochberg cut-off over all cells.
    """
    z_score = np.asarray(z_score, dtype=np.float64)
    p_value = np.asarray(p_value, dtype=np.float64)
    confidence = np.zeros(z_score.shape, dtype=np.int8)
    for level, alpha in CONFIDENCE_LEVELS:
        cutoff = _false_discovery_rate_cutoff(p_value, alpha) if fdr else alpha
        confidence[p_value <= cutoff] = level
    return np.sign(z_score).astype(np.int8) * confidence


def _false_discovery_rate_cutoff(p_value: np.ndarray, alpha: float) -> float:
    """The Benjamini–Hochberg cut-off: the largest p_(k) with p_(k) ≤ k·alpha/m, or -inf when
    there is none.

    Not esda.fdr: it tests p_(k) < k·alpha/m, strictly, which drops a permutation p-value
    lying exactly on the line (they are multiples of 1/(P + 1), so it happens).
    """
    ordered = np.sort(p_value, axis=None)
    passing = np.flatnonzero(ordered <= alpha * np.arange(1, ordered.size + 1) / ordered.size)
    return float(ordered[passing[-1]]) if passing.size else -np.inf


@dataclass(frozen=True)
class GlobalAutocorrelation:
    """Global Moran's I of counts on a grid, its z-score and two-sided p-value under the
    randomisation assumption."""

    morans_i: float
    z_score: float
    p_value: float


def global_morans_i(counts: np.ndarray, weights: Graph) -> GlobalAutocorrelation:
    """Global Moran's I with row-standardised weights, as ArcGIS Pro's Spatial
    Autocorrelation tool (and its Incremental Spatial Autocorrelation) computes it.

    The z-score is esda's `z_rand`, under randomisation rather than normality, as ArcGIS
    reports it: counts of incidents are skewed (most cells 0 or 1, a few dozens), and the
    randomisation variance accounts for their kurtosis. Counts all equal: nothing to compare,
    I and z are 0 and p is 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.shape != (weights.n,):
        raise ValueError(f"{counts.size} counts for {weights.n} cells")
    if np.all(counts == counts[0]):
        return GlobalAutocorrelation(morans_i=0.0, z_score=0.0, p_value=1.0)
    moran = esda.Moran(counts, weights, transformation="r", permutations=0)
    return GlobalAutocorrelation(
        morans_i=float(moran.I), z_score=float(moran.z_rand), p_value=float(moran.p_rand)
    )


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mann-Kendall trend test of each row (cells × time steps, no missing values).

    S = Σ_{i<j} sign(x_j − x_i); Var(S) = (n(n−1)(2n+5) − Σ_ties t(t−1)(2t+5))/18;
    z = (S − sign(S))/√Var(S) (continuity correction), 0 when Var(S) is 0; two-sided p.
    """
    series = np.atleast_2d(np.asarray(series, dtype=np.float64))
    steps = series.shape[1]
    s = np.zeros(series.shape[0])
    # How many values of its row each value equals (itself included): a group of t tied
    # values contributes t(t−1)(2t+5) = Σ over its members of (t−1)(2t+5).
    tied = np.zeros(series.shape)
    # Loops over time steps, which are few; the cells are vectorised.
    for step in range(steps):
        s += np.sign(series[:, step + 1 :] - series[:, step : step + 1]).sum(axis=1)
        tied += series == series[:, step : step + 1]
    variance = (
        steps * (steps - 1) * (2 * steps + 5) - ((tied - 1) * (2 * tied + 5)).sum(axis=1)
    ) / 18
    z = np.divide(s - np.sign(s), np.sqrt(variance), out=np.zeros_like(s), where=variance > 0)
    return z, 2 * stats.norm.sf(np.abs(z))


def emerging_patterns(
    z_by_step: np.ndarray, p_by_step: np.ndarray, *, fdr: bool = False
) -> np.ndarray:
    """Each cell's pattern over time (cells × steps, oldest step first), after Esri's Emerging
    Hot Spot Analysis; one of `EMERGING_PATTERNS`.

    A step is hot where the cell's Gi* z > 0 and p ≤ 0.10 (with `fdr`, p at most the step's
    Benjamini–Hochberg cut-off at 0.10), cold where z < 0 likewise. The trend is the
    Mann-Kendall test of the cell's Gi* z-scores, significant at p ≤ 0.05. "At least 90 %"
    counts hot steps among all steps. For a cell hot at the final step:

    - intensifying_hot: hot at ≥ 90 % of the steps, z-scores rising significantly;
    - diminishing_hot: hot at ≥ 90 % of the steps, z-scores falling significantly;
    - persistent_hot: hot at ≥ 90 % of the steps, no significant trend;
    - oscillating_hot: hot at < 90 % of the steps, cold at some earlier step;
    - new_hot: hot at the final step only, never significant before;
    - consecutive_hot: an uninterrupted run of at least two hot steps up to the final one,
      never significant before it, and hot at < 90 % of the steps;
    - sporadic_hot: hot at < 90 % of the steps, on and off, never cold.

    A cell neither hot nor cold at the final step is historical_hot when hot at ≥ 90 % of the
    steps, otherwise no_pattern. Cold patterns mirror these with hot and cold, rising and
    falling swapped.

    Where Esri's wording leaves two patterns open, the final step decides the family (a cell
    cold now after ≥ 90 % hot steps is oscillating_cold, not historical_hot), and an earlier
    spot of the other kind makes a cell oscillating rather than new or consecutive.
    """
    z_by_step = np.atleast_2d(np.asarray(z_by_step, dtype=np.float64))
    p_by_step = np.atleast_2d(np.asarray(p_by_step, dtype=np.float64))
    if z_by_step.shape != p_by_step.shape:
        raise ValueError("z_by_step and p_by_step must have the same shape")
    spot = np.column_stack(
        [
            spot_classes(z_by_step[:, step], p_by_step[:, step], fdr=fdr)
            for step in range(z_by_step.shape[1])
        ]
    )
    hot, cold = spot > 0, spot < 0
    trend_z, trend_p = mann_kendall(z_by_step)
    trending = trend_p <= TREND_ALPHA
    rising, falling = trending & (trend_z > 0), trending & (trend_z < 0)

    patterns = np.full(z_by_step.shape[0], "no_pattern", dtype=object)
    for kind, is_spot, is_other, intensifying, diminishing in (
        ("hot", hot, cold, rising, falling),
        ("cold", cold, hot, falling, rising),
    ):
        _assign_patterns(patterns, kind, is_spot, is_other, intensifying, diminishing)
    return patterns


def _assign_patterns(
    patterns: np.ndarray,
    kind: str,
    is_spot: np.ndarray,
    is_other: np.ndarray,
    intensifying: np.ndarray,
    diminishing: np.ndarray,
) -> None:
    steps = is_spot.shape[1]
    now = is_spot[:, -1]
    neither_now = ~now & ~is_other[:, -1]
    mostly = 10 * is_spot.sum(axis=1) >= 9 * steps
    # Length of the run of spots that ends at the final step.
    run = np.where(is_spot.all(axis=1), steps, np.argmax(~is_spot[:, ::-1], axis=1))
    before_run = np.arange(steps) < (steps - run)[:, None]
    significant_before_run = ((is_spot | is_other) & before_run).any(axis=1)
    other_before = is_other[:, :-1].any(axis=1)

    rules = (
        (now & mostly & intensifying, "intensifying"),
        (now & mostly & diminishing, "diminishing"),
        (now & mostly & ~intensifying & ~diminishing, "persistent"),
        (now & ~mostly & other_before, "oscillating"),
        (now & ~mostly & ~other_before & (run == 1) & ~significant_before_run, "new"),
        (now & ~mostly & ~other_before & (run >= 2) & ~significant_before_run, "consecutive"),
        (now & ~mostly & ~other_before & significant_before_run, "sporadic"),
        (neither_now & mostly, "historical"),
    )
    for applies, pattern in rules:
        patterns[applies] = f"{pattern}_{kind}"


def _grid_disks(cells: np.ndarray, rings: int) -> tuple[np.ndarray, np.ndarray]:
    """For each cell, how many cells lie within `rings` grid steps (itself included, fewer near
    a pentagon), and those cells, concatenated in the order of `cells`."""
    # h3 has no vectorised grid_disk; one call per cell costs about 4 µs.
    disks = [h3_int.grid_disk(cell, rings) for cell in cells.tolist()]
    sizes = np.fromiter(map(len, disks), dtype=np.int64, count=len(disks))
    return sizes, np.concatenate(disks).view(np.int64)


def _require_one_resolution(cells: np.ndarray) -> None:
    # An H3 index holds its resolution in bits 52–55.
    if np.unique((cells >> 52) & 0xF).size > 1:
        raise ValueError("cells must all be at one H3 resolution")
