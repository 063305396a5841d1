"""Reading m=2 solutions as polygons (analysis/polygons.py) on hand-built weights."""
from __future__ import annotations

import numpy as np
import pytest

from analysis.polygons import DIGONS, OTHER, PENTAGON, aligned, cyclic_gaps, shape


def at(degrees, norms=1.0):
    t = np.radians(np.asarray(degrees, float))
    return np.asarray(norms) * np.stack([np.cos(t), np.sin(t)])


def test_a_regular_pentagon():
    W = at([10, 82, 154, 226, 298])
    assert shape(W) == (PENTAGON, ())
    assert all(g == pytest.approx((72, 72)) for g in cyclic_gaps(W).values())


def test_two_digons_name_the_dropped_feature():
    assert shape(at([0, 0, 90, 180, 270], [0.1, 1, 1, 1, 1])) == (DIGONS, (0,))
    assert shape(at([0, 50, 100, 180, 230], [1, 1, 0.2, 1, 1])) == (DIGONS, (2,))  # pairs need not be orthogonal


def test_other_shapes():
    assert shape(at([0, 90, 180, 300, 0], [1, 1, 1, 1, 0.1]))[0] == OTHER  # 4 stored, one pair not antipodal
    assert shape(at([0, 10, 144, 216, 288]))[0] == OTHER  # 5 stored, two nearly coincide
    assert shape(at([0, 72, 144, 216, 288], [1, 1, 1, 0.1, 0.1]))[0] == OTHER  # 3 stored


def test_aligned_puts_feature_0_on_the_x_axis_and_keeps_the_shape():
    W = at([37, 109, 181, 253, 325], [1.2, 1, 1, 1, 1])
    A = aligned(W)
    assert A[:, 0] == pytest.approx([1.2, 0])
    np.testing.assert_allclose(A.T @ A, W.T @ W, atol=1e-12)
    assert A[1, 1] > 0 or A[1, 4] > 0  # the nearer neighbour above the axis
