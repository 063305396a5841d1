"""sweep/metrics.py on hand-computed geometries (orthogonal and antipodal pairs, the pentagon) and hand values:
feature norms, superposition, dimensionality, the represented rule."""
from __future__ import annotations

import numpy as np
import pytest

from sweep import metrics


def test_metrics():
    assert metrics.REPRESENTED_NORM == 0.5  # the README's cut
    W = np.array([[3.0, 0.0, 1.0, 0.0], [4.0, 0.0, 0.0, 0.5]])  # norms 5, 0, 1, 0.5
    np.testing.assert_allclose(metrics.feature_norms(W), [5, 0, 1, 0.5])
    np.testing.assert_array_equal(metrics.represented(W), [True, False, True, False])  # 0.5 is not above 0.5
    o = metrics.overlaps(W)  # (W_i_hat . W_j)
    np.testing.assert_allclose(o[0], [5, 0, 0.6, 0.4])
    np.testing.assert_allclose(o[1], [0, 0, 0, 0])  # zero column: zero row
    np.testing.assert_allclose(o[2], [3, 0, 1, 0])
    np.testing.assert_allclose(metrics.superposition(W), [0.36 + 0.16, 0, 9, 16])
    np.testing.assert_allclose(metrics.interference(W), [3 + 2, 0, 3, 2])
    # D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2
    np.testing.assert_allclose(metrics.dimensionality(W), [25 / 25.52, 0, 1 / 10, 0.25 / 16.25])
    assert metrics.dimensions_per_feature(W) == pytest.approx(2 / 26.25)
    angles = metrics.pairwise_angles(W)
    assert angles[0, 2] == pytest.approx(np.degrees(np.arccos(0.6))) and angles[2, 3] == pytest.approx(90)
    assert np.isnan(angles[1]).all()
    assert angles[0, 3] == pytest.approx(np.degrees(np.arccos(2 / 2.5)))  # W_0 . W_3 = 2, norms 5 and 0.5
    # rounding pushes |cos| past 1 for these (found by search): a feature and its antipode are 180 degrees, never NaN
    v = np.array([[1.493], [-1.259]])
    np.testing.assert_array_equal(metrics.pairwise_angles(np.hstack([v, -1.03 * v])), [[0, 180], [180, 0]])
    # D_i with sum_j (W_i_hat . W_j)^2 below 1: short orthogonal features still have one dimension each
    np.testing.assert_allclose(metrics.dimensionality(np.array([[0.6, 0.0], [0.0, 0.3]])), [1.0, 1.0])
    stacked = np.stack([W, -2 * W])
    np.testing.assert_allclose(metrics.interference(stacked), [metrics.interference(W), 4 * metrics.interference(W)])
    np.testing.assert_allclose(metrics.superposition(stacked)[1], metrics.superposition(W) * 4)
    np.testing.assert_allclose(metrics.dimensionality(stacked)[1], metrics.dimensionality(W))
    np.testing.assert_allclose(metrics.dimensions_per_feature(stacked), [2 / 26.25, 2 / 105])
    np.testing.assert_allclose(metrics.dimensions_per_feature(0.5 * np.eye(2)), 4.0)  # m / ||W||_F^2 = 2 / 0.5
    assert np.isnan(metrics.dimensions_per_feature(np.zeros((2, 3))))  # no feature kept: undefined (sweep/metrics.py)


def test_orthogonal_pair():
    W = np.array([[2.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(metrics.feature_norms(W), [2.0, 1.0])
    np.testing.assert_allclose(metrics.superposition(W), [0.0, 0.0])
    np.testing.assert_allclose(metrics.dimensionality(W), [1.0, 1.0])
    assert metrics.dimensions_per_feature(W) == pytest.approx(2 / 5)  # m / ||W||_F^2 = 2 / (4 + 1)
    np.testing.assert_array_equal(metrics.represented(W), [True, True])


def test_antipodal_pair():
    W = np.array([[1.0, -1.0]])
    np.testing.assert_allclose(metrics.superposition(W), [1.0, 1.0])  # (W_0_hat . W_1)^2 = 1
    np.testing.assert_allclose(metrics.dimensionality(W), [0.5, 0.5])  # 1 / (1 + 1)
    assert metrics.dimensions_per_feature(W) == pytest.approx(0.5)
    # unequal norms: D_0 = 1 / (1 + 0.25), the weaker one D_1 = 0.25 / (0.25 + 1)
    W = np.array([[1.0, -0.5]])
    np.testing.assert_allclose(metrics.superposition(W), [0.25, 1.0])
    np.testing.assert_allclose(metrics.dimensionality(W), [0.8, 0.2])
    np.testing.assert_array_equal(metrics.represented(W), [True, False])


def test_pentagon():
    """Five unit vectors at 72 degrees: D_i = 1 / (1 + 2 cos^2 72 + 2 cos^2 144) = 2/5 = m/n."""
    angles = 2 * np.pi * np.arange(5) / 5
    W = np.stack([np.cos(angles), np.sin(angles)])
    np.testing.assert_allclose(metrics.dimensionality(W), [0.4] * 5)
    np.testing.assert_allclose(metrics.superposition(W), [1.5] * 5)  # 2.5 - 1
    assert metrics.dimensions_per_feature(W) == pytest.approx(0.4)
    # stacked models work alike
    both = np.stack([W, np.eye(2, 5)])
    np.testing.assert_allclose(metrics.dimensions_per_feature(both), [0.4, 1.0])


def test_dims_per_feature_of_a_zero_W_is_nan_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = metrics.dimensions_per_feature(np.stack([np.zeros((2, 5)), np.eye(2, 5)]))
    assert np.isnan(out[0]) and out[1] == pytest.approx(1.0)
