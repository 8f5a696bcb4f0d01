"""Hot-spot statistics on the H3 grid: study area, weights, Gi*, ArcGIS's classes with the false
discovery rate, Mann-Kendall and emerging hot spots. Pure arrays, no database."""

import warnings

import esda
import h3
import numpy as np
import pytest
from scipy import stats

from geo.analyses.statistics import (
    EMERGING_PATTERNS,
    SPOT_CLASS_LABELS,
    emerging_patterns,
    gi_star,
    hexagon_weights,
    mann_kendall,
    spot_classes,
    study_area,
)

# A resolution-7 cell in Nairobi; the grids below are built around it.
CENTRE = h3.latlng_to_cell(-1.2864, 36.8172, 7)


def as_ids(hexes) -> np.ndarray:
    return np.array([h3.str_to_int(hexagon) for hexagon in hexes], dtype=np.int64)


def disk(hexagon: str, rings: int) -> set[int]:
    return set(as_ids(h3.grid_disk(hexagon, rings)).tolist())


def two_sided(z: np.ndarray) -> np.ndarray:
    return 2 * stats.norm.sf(np.abs(z))


def busy_cluster() -> tuple[np.ndarray, np.ndarray]:
    """Seven busy cells (the centre and its ring), three quiet cells five steps away, and the
    empty ring around each, as `study_area` builds it."""
    ring = [hexagon for hexagon in h3.grid_disk(CENTRE, 1) if hexagon != CENTRE]
    quiet = h3.grid_ring(CENTRE, 5)[:3]
    cells = as_ids([CENTRE, *ring, *quiet])
    counts = np.array([10, 8, 7, 9, 6, 8, 7, 1, 2, 1])
    return study_area(cells, counts, 1)


def gi_star_by_hand(cells: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Getis and Ord's Gi*, written out: w_ij = 1 within one grid step, w_ii = 1,

    Gi* = (Σ_j w_ij x_j − X̄ Σ_j w_ij) / (S √((n Σ_j w_ij² − (Σ_j w_ij)²)/(n − 1)))
    """
    hexes = [h3.int_to_str(int(cell)) for cell in cells]
    w = np.array([[float(h3.grid_distance(a, b) <= 1) for b in hexes] for a in hexes])
    x = counts.astype(float)
    n = x.size
    mean = x.mean()
    s = np.sqrt((x**2).mean() - mean**2)
    w_sum = w.sum(axis=1)
    return (w @ x - mean * w_sum) / (s * np.sqrt((n * (w**2).sum(axis=1) - w_sum**2) / (n - 1)))


# Study area and weights


def test_study_area_adds_exactly_the_cells_within_the_rings():
    near = h3.grid_ring(CENTRE, 2)[0]  # its ring overlaps the centre's
    far = h3.grid_ring(CENTRE, 9)[0]
    cells = as_ids([far, CENTRE, near])
    area, counts = study_area(cells, np.array([4, 3, 2]), 1)

    assert set(area.tolist()) == disk(CENTRE, 1) | disk(near, 1) | disk(far, 1)
    assert area.size == len(set(area.tolist()))
    assert (np.diff(area) > 0).all()
    by_cell = dict(zip(area.tolist(), counts.tolist(), strict=True))
    assert [by_cell[cell] for cell in cells.tolist()] == [4, 3, 2]
    assert sum(by_cell.values()) == 9


def test_study_area_without_rings_is_the_cells_with_data_sorted():
    cells = as_ids([h3.grid_ring(CENTRE, 3)[0], CENTRE])
    area, counts = study_area(cells, np.array([5, 6]), 0)
    assert area.tolist() == sorted(cells.tolist())
    assert dict(zip(area.tolist(), counts.tolist(), strict=True)) == {
        cells[0].item(): 5,
        cells[1].item(): 6,
    }


def test_study_area_refuses_repeated_cells_and_mixed_resolutions():
    centre = h3.str_to_int(CENTRE)
    with pytest.raises(ValueError, match="once"):
        study_area(np.array([centre, centre]), np.array([1, 2]), 1)
    coarser = h3.str_to_int(h3.cell_to_parent(CENTRE, 6))
    with pytest.raises(ValueError, match="resolution"):
        study_area(np.array([centre, coarser]), np.array([1, 2]), 1)


def test_hexagon_weights_are_symmetric_with_six_neighbours_for_inner_cells():
    cells = np.array(sorted(disk(CENTRE, 3)))
    adjacency = hexagon_weights(cells, 1).sparse
    cardinality = np.asarray(adjacency.sum(axis=1)).ravel()
    inner = np.isin(cells, list(disk(CENTRE, 2)))

    assert (adjacency != adjacency.T).nnz == 0
    assert adjacency.diagonal().sum() == 0
    assert (cardinality[inner] == 6).all()
    assert (cardinality[~inner] < 6).all()
    centre = int(np.flatnonzero(cells == h3.str_to_int(CENTRE))[0])
    assert set(cells[adjacency[[centre], :].nonzero()[1]].tolist()) == (
        disk(CENTRE, 1) - {h3.str_to_int(CENTRE)}
    )


def test_hexagon_weights_with_two_rings_give_inner_cells_eighteen_neighbours():
    cells = np.array(sorted(disk(CENTRE, 3)))
    cardinality = np.asarray(hexagon_weights(cells, 2).sparse.sum(axis=1)).ravel()
    assert (cardinality[np.isin(cells, list(disk(CENTRE, 1)))] == 18).all()


def test_hexagon_weights_follow_the_order_the_cells_come_in():
    cells = np.random.default_rng(3).permutation(np.array(sorted(disk(CENTRE, 2))))
    adjacency = hexagon_weights(cells, 1).sparse.tocoo()
    hexes = [h3.int_to_str(int(cell)) for cell in cells]

    distances = {
        h3.grid_distance(hexes[i], hexes[j])
        for i, j in zip(adjacency.row, adjacency.col, strict=True)
    }
    assert distances == {1}
    assert adjacency.nnz == sum(
        len(disk(hexagon, 1) & set(cells.tolist())) - 1 for hexagon in hexes
    )


# Gi*


def test_gi_star_matches_the_getis_ord_formula_by_hand():
    cells, counts = busy_cluster()
    result = gi_star(counts, hexagon_weights(cells, 1))

    np.testing.assert_allclose(result.z_score, gi_star_by_hand(cells, counts), rtol=1e-10)
    centre = cells == h3.str_to_int(CENTRE)
    assert result.z_score[centre][0] == result.z_score.max()
    assert result.spot_class[centre][0] == 3


def test_gi_star_gives_esdas_z_scores_with_two_sided_p_values():
    cells, counts = busy_cluster()
    weights = hexagon_weights(cells, 1)
    result = gi_star(counts, weights)
    local = esda.G_Local(counts, weights, transform="B", star=True, permutations=0)

    np.testing.assert_allclose(result.z_score, local.Zs, rtol=1e-12)
    # esda's p_norm is one-sided.
    np.testing.assert_allclose(result.p_value, 2 * local.p_norm, rtol=1e-12)
    np.testing.assert_allclose(result.p_value, 2 * (1 - stats.norm.cdf(np.abs(local.Zs))))


def test_gi_star_gives_no_class_to_cells_with_nothing_to_compare():
    # One busy cell: the centre's neighbourhood is the whole study area. RuntimeWarnings are
    # errors in this suite, so a division by zero would fail the test too.
    cells, counts = study_area(as_ids([CENTRE]), np.array([4]), 1)
    result = gi_star(counts, hexagon_weights(cells, 1))
    centre = cells == h3.str_to_int(CENTRE)
    assert result.z_score[centre].tolist() == [0.0]
    assert result.p_value[centre].tolist() == [1.0]
    assert np.isfinite(result.z_score).all()

    flat = gi_star(np.full(cells.size, 3), hexagon_weights(cells, 1), permutations=99)
    assert (flat.z_score == 0).all()
    assert (flat.p_value == 1).all()
    assert (flat.spot_class == 0).all()


def test_gi_star_refuses_counts_that_do_not_match_the_weights():
    cells, counts = busy_cluster()
    with pytest.raises(ValueError, match="counts"):
        gi_star(counts[:-1], hexagon_weights(cells, 1))


# Permutations


def test_permutation_p_values_are_reproducible_with_a_seed():
    cells, counts = busy_cluster()
    weights = hexagon_weights(cells, 1)
    first = gi_star(counts, weights, permutations=999, seed=7)
    again = gi_star(counts, weights, permutations=999, seed=7)
    other_seed = gi_star(counts, weights, permutations=999, seed=8)

    np.testing.assert_array_equal(first.p_value, again.p_value)
    assert not np.array_equal(first.p_value, other_seed.p_value)
    # Pseudo p-values are multiples of 1/(P + 1), doubled.
    np.testing.assert_allclose(first.p_value * 1000 / 2 % 1, 0, atol=1e-9)


def test_permutations_agree_with_the_normal_approximation_on_a_strong_hot_spot():
    cells, counts = busy_cluster()
    weights = hexagon_weights(cells, 1)
    analytic = gi_star(counts, weights)
    permuted = gi_star(counts, weights, permutations=999)
    centre = cells == h3.str_to_int(CENTRE)

    assert permuted.z_score[centre][0] > 2.58
    assert analytic.p_value[centre][0] < 0.001
    assert permuted.p_value[centre][0] <= 0.01
    assert analytic.spot_class[centre][0] > 0
    assert permuted.spot_class[centre][0] > 0
    np.testing.assert_array_equal(permuted.z_score, analytic.z_score)


def test_permutation_p_values_double_esdas_p_sim_when_nothing_ties():
    cells = np.array(sorted(disk(CENTRE, 4)))
    values = np.random.default_rng(11).gamma(2.0, size=cells.size)
    weights = hexagon_weights(cells, 1)
    result = gi_star(values, weights, permutations=999, seed=21)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        local = esda.G_Local(
            values, weights, transform="B", star=True, permutations=999, seed=21, n_jobs=1
        )

    np.testing.assert_allclose(result.p_value, np.minimum(1, 2 * local.p_sim), atol=1e-6)


def test_a_cell_among_empty_cells_is_no_cold_spot_under_permutations():
    busy = [*h3.grid_disk(CENTRE, 1)]
    cells, counts = study_area(as_ids(busy), np.array([9, 7, 8, 6, 7, 8, 9]), 4)
    weights = hexagon_weights(cells, 1)
    result = gi_star(counts, weights, permutations=999)
    # Three or more steps from the centre a cell and all its neighbours are empty: G = 0, as
    # in about half of the permutations.
    among_empty = ~np.isin(cells, list(disk(CENTRE, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        local = esda.G_Local(
            counts.astype(float), weights, transform="B", star=True, permutations=999, n_jobs=1
        )

    assert among_empty.sum() == 91 - 19
    # esda's own "directed" p_sim counts the ties for neither tail and finds them cold.
    assert (local.p_sim[among_empty] <= 0.002).all()
    assert (result.p_value[among_empty] > 0.5).all()
    assert (result.spot_class[among_empty] == 0).all()


def test_a_quiet_cell_among_empty_ones_is_no_cold_spot_under_permutations():
    # Its G ties with every draw that picks only empty neighbours, most draws here. A total of
    # 100,000 is one where numba's fastmath division would break such ties by one ulp.
    busy = [*h3.grid_disk(CENTRE, 1)]
    lone = h3.grid_ring(CENTRE, 10)[0]
    counts = np.array([20000, 15000, 15000, 10000, 10000, 15000, 14997, 3])
    cells, area_counts = study_area(as_ids([*busy, lone]), counts, 4)
    result = gi_star(area_counts, hexagon_weights(cells, 1), permutations=999)
    at_lone = cells == h3.str_to_int(lone)

    assert area_counts.sum() == 100_000
    assert result.p_value[at_lone][0] > 0.5
    assert result.spot_class[at_lone][0] == 0


# Classes


def test_spot_classes_without_fdr_follow_the_three_confidence_levels():
    z = np.array([3.1, -2.9, 2.2, -2.0, 1.7, -1.7, 0.4, 2.58])
    p = np.array([0.002, 0.004, 0.03, 0.045, 0.09, 0.09, 0.7, 0.01])
    classes = spot_classes(z, p, fdr=False)
    assert classes.tolist() == [3, -3, 2, -2, 1, -1, 0, 3]
    assert [SPOT_CLASS_LABELS[c] for c in classes[:7].tolist()] == [
        "hot_99",
        "cold_99",
        "hot_95",
        "cold_95",
        "hot_90",
        "cold_90",
        "not_significant",
    ]


def test_fdr_demotes_cells_significant_only_without_it():
    # Ten cells. Benjamini–Hochberg lines k·alpha/10 against the sorted p-values:
    # alpha 0.01: 0.001 ≤ 0.001, 0.008 > 0.002            → cut-off 0.001
    # alpha 0.05: 0.001 ≤ 0.005, 0.008 ≤ 0.010, 0.039 > 0.015 → cut-off 0.008
    # alpha 0.10: 0.001 ≤ 0.010, 0.008 ≤ 0.020, 0.039 > 0.030, the rest far above
    #                                                     → cut-off 0.008
    p = np.array([0.001, 0.008, 0.039, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    z = np.array([3.3, -2.65, 2.06, 1.0, -0.7, 0.5, 0.4, 0.3, 0.1, 0.05])

    assert spot_classes(z, p, fdr=False).tolist() == [3, -3, 2, 0, 0, 0, 0, 0, 0, 0]
    assert spot_classes(z, p, fdr=True).tolist() == [3, -2, 0, 0, 0, 0, 0, 0, 0, 0]


def test_fdr_keeps_a_p_value_lying_on_the_benjamini_hochberg_line():
    # 0.002 = 2 × 0.01/10 exactly: Benjamini–Hochberg's p_(k) ≤ k·alpha/m keeps it at 99 %;
    # esda.fdr's strict inequality would not.
    p = np.array([0.001, 0.002, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99])
    z = np.where(p < 0.5, 3.0, 0.5)
    assert spot_classes(z, p).tolist()[:3] == [3, 3, 0]
    assert esda.fdr(p, 0.01) < 0.002


def test_fdr_cut_offs_agree_with_esda_on_continuous_p_values():
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(0, 0.004, 40), rng.uniform(0, 1, 400)])
    classes = spot_classes(np.ones(p.size), p)
    for level, alpha in ((3, 0.01), (2, 0.05), (1, 0.10)):
        np.testing.assert_array_equal(classes >= level, p <= esda.fdr(p, alpha))
    assert set(classes.tolist()) == {0, 1, 2, 3}


# Mann-Kendall


def test_mann_kendall_matches_a_hand_computed_series():
    # 1, 3, 2, 4, 4: rising pairs 4 + 2 + 2, falling 1 (3 → 2), one tie (4, 4): S = 7.
    # Var(S) = (5·4·15 − 2·1·9)/18 = 282/18; z = (7 − 1)/√(282/18).
    z, p = mann_kendall(np.array([[1, 3, 2, 4, 4], [2, 2, 2, 2, 2]]))
    expected_z = 6 / np.sqrt(282 / 18)
    np.testing.assert_allclose(z, [expected_z, 0.0])
    np.testing.assert_allclose(p, [2 * stats.norm.sf(expected_z), 1.0])


def test_mann_kendall_agrees_with_kendalls_tau_over_time():
    rows = np.random.default_rng(9).normal(size=(200, 12)).cumsum(axis=1)
    z, p = mann_kendall(rows)
    steps = np.arange(rows.shape[1])
    # Without ties, Kendall's tau against time is the same test without the continuity
    # correction of 1 in S.
    sigma = np.sqrt(12 * 11 * 29 / 18)
    for row, row_z in zip(rows, z, strict=True):
        tau = stats.kendalltau(steps, row, method="asymptotic")
        assert np.sign(row_z) == np.sign(tau.statistic)
        np.testing.assert_allclose(
            abs(row_z), max(stats.norm.isf(tau.pvalue / 2) - 1 / sigma, 0), atol=1e-9
        )
    assert (p < 0.05).any()
    assert (p > 0.05).any()


# Emerging hot spots

QUIET, HOT, COLD = 0.5, 3.0, -3.0

SERIES = {
    "new_hot": [QUIET] * 9 + [HOT],
    "consecutive_hot": [QUIET] * 7 + [HOT] * 3,
    "intensifying_hot": list(np.linspace(2.0, 6.0, 10)),
    "persistent_hot": [3.0, 3.2] * 5,
    "diminishing_hot": list(np.linspace(6.0, 2.0, 10)),
    "sporadic_hot": [QUIET, QUIET, HOT, QUIET, QUIET, HOT, QUIET, QUIET, QUIET, HOT],
    "oscillating_hot": [QUIET, QUIET, QUIET, COLD, QUIET, QUIET, QUIET, QUIET, QUIET, HOT],
    "historical_hot": [HOT] * 9 + [QUIET],
}
NO_PATTERN = [
    [QUIET] * 10,
    [QUIET, QUIET, HOT] + [QUIET] * 7,  # hot once, long ago
    [HOT] * 8 + [QUIET] * 2,  # hot at 80 % of the steps, not now
]


def test_emerging_patterns_follow_esris_definitions():
    z = np.array([*SERIES.values(), *NO_PATTERN])
    patterns = emerging_patterns(z, two_sided(z))
    assert patterns.tolist() == [*SERIES, *["no_pattern"] * len(NO_PATTERN)]
    assert set(patterns.tolist()) <= set(EMERGING_PATTERNS)


def test_cold_patterns_mirror_the_hot_ones():
    z = -np.array([*SERIES.values(), *NO_PATTERN])
    patterns = emerging_patterns(z, two_sided(z))
    expected = [name.replace("_hot", "_cold") for name in SERIES]
    assert patterns.tolist() == [*expected, *["no_pattern"] * len(NO_PATTERN)]


def test_a_cell_cold_now_after_hot_steps_oscillates_rather_than_history():
    z = np.array([[HOT] * 9 + [COLD]])
    assert emerging_patterns(z, two_sided(z)).tolist() == ["oscillating_cold"]


def test_a_step_is_hot_only_past_the_fdr_cut_off_when_asked():
    # One cell just significant at the final step (p ≈ 0.089) among nineteen quiet ones:
    # 0.089 is above the first Benjamini–Hochberg line, 0.10/20.
    z = np.zeros((20, 6))
    z[0, -1] = 1.7
    p = two_sided(z)
    assert emerging_patterns(z, p)[0] == "new_hot"
    assert emerging_patterns(z, p, fdr=True)[0] == "no_pattern"
