"""analysis/tegum.py on hand-built weights: the tegum product of the paper's polytopes, each in its own dimensions."""
import numpy as np
import pytest
from scipy.linalg import block_diag  # each block in its own rows and columns

from analysis.tegum import factors, near_fraction, polytopes
from sweep.metrics import dimensionality


def polygon(k: int) -> np.ndarray:
    t = 2 * np.pi * np.arange(k) / k
    return np.stack([np.cos(t), np.sin(t)])


def antiprism() -> np.ndarray:
    """8 unit vectors, two squares at heights +-1/sqrt(3) turned 45 degrees: a tight frame, so each D_i = 3/8."""
    h, r = 1 / np.sqrt(3), np.sqrt(2 / 3)
    t = np.pi / 2 * np.arange(4)
    top = np.stack([r * np.cos(t), r * np.sin(t), np.full(4, h)])
    bottom = np.stack([r * np.cos(t + np.pi / 4), r * np.sin(t + np.pi / 4), np.full(4, -h)])
    return np.concatenate([top, bottom], axis=1)


TETRAHEDRON = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]).T / np.sqrt(3)
PARTS = {"digon": np.array([[1.0, -1.0]]), "dedicated": np.array([[1.0]]), "triangle": polygon(3),
         "tetrahedron": TETRAHEDRON, "pentagon": polygon(5), "square antiprism": antiprism()}


def tegum() -> np.ndarray:
    """(12, 23): each polytope in its own orthogonal dimensions, then one random rotation of the whole."""
    W = block_diag(*PARTS.values())
    return np.linalg.qr(np.random.default_rng(0).normal(size=(W.shape[0],) * 2))[0] @ W


def test_each_polytope_is_named_from_size_and_dimensionalities():
    found = sorted(name for name, _ in polytopes(tegum()))
    assert found == sorted(PARTS)
    D = dimensionality(tegum())
    assert near_fraction(D).all() and D.sum() == pytest.approx(12)


def test_unrepresented_features_are_left_out_and_crosstalk_above_the_edge_merges_factors():
    W = np.concatenate([tegum(), np.zeros((12, 1))], axis=1)
    assert sum(len(f) for f in factors(W)) == 23
    W = block_diag(*PARTS.values())
    W[:, 0] += 0.3 * W[:, 2]  # the digon's first feature leans 0.3 towards the dedicated one: one factor of 3
    assert "other (3)" in [name for name, _ in polytopes(W)]


def test_near_is_within_half_the_gap_between_2_5_and_3_8():
    assert near_fraction(np.array([0.0, 0.51, 0.39, 0.42, 0.74])).tolist() == [True, True, True, False, True]
    assert not near_fraction(np.array([0.6, 0.2, 0.45])).any()
