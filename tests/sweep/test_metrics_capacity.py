"""The capacity invariant sum_i D_i <= rank(W) <= m (Scherlis et al. 2022) of the feature dimensionality.

It holds for every W (proof in sweep/metrics.py: dimensionality_sum); here on random and degenerate matrices,
exactly at m for orthonormal features, and on the trained models of tests/sweep/test_data_correlated.py and
tests/system/test_paper.py (every CI-sized experiment's table)."""
import numpy as np
import pytest

from sweep.metrics import dimensionality, dimensionality_sum

TOLERANCE = 1e-9  # float64


def test_sum_of_dimensionalities_is_at_most_the_rank():
    rng = np.random.default_rng(0)
    for _ in range(300):
        m, n = rng.integers(1, 8), rng.integers(1, 30)
        W = rng.standard_normal((m, n)) * rng.choice([1e-4, 1.0, 10.0], size=n)  # mixed scales
        rank = rng.integers(1, m + 1)
        W = rng.standard_normal((m, rank)) @ rng.standard_normal((rank, m)) @ W if rank < m else W  # rank <= rank
        W[:, rng.random(n) < 0.2] = 0.0  # some absent features
        assert dimensionality_sum(W) <= np.linalg.matrix_rank(W) + TOLERANCE
    stacked = rng.standard_normal((50, 3, 7))
    assert (dimensionality_sum(stacked) <= 3 + TOLERANCE).all() and dimensionality_sum(stacked).shape == (50,)


def test_orthogonal_features_reach_the_bound_and_superposed_ones_share_it():
    assert dimensionality_sum(np.eye(3)[:, [0, 1, 2]]) == pytest.approx(3)
    pentagon = np.stack([np.cos(2 * np.pi * np.arange(5) / 5), np.sin(2 * np.pi * np.arange(5) / 5)])
    np.testing.assert_allclose(dimensionality(pentagon), 2 / 5)  # the paper's pentagon: 2/5 each
    antipodal = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(dimensionality(antipodal), [0.5, 0.5, 1.0])
    assert dimensionality_sum(np.zeros((2, 4))) == 0
