"""The analytic attack (analysis/adversarial.py) on hand-built weights, against hand-computed numbers."""
from __future__ import annotations

import numpy as np
import pytest

from analysis.adversarial import attack_norm, orthogonal, relative_vulnerability, sample_inputs, vulnerability

EPS = 0.1


def test_a_model_without_superposition_loses_exactly_eps_squared():
    W, b = orthogonal(6, 3)
    x = sample_inputs(6, 0.3, samples=500)
    loss, worst = vulnerability(W, b, x, np.ones(6), EPS)
    assert loss == pytest.approx(EPS**2, rel=1e-9) and worst in (0, 1, 2)  # the attack adds eps to one kept output
    assert relative_vulnerability(W, b, 0.3, np.ones(6), samples=500)["relative"] == pytest.approx(1.0)


def test_an_antipodal_pair_is_twice_as_vulnerable():
    # W^T W = [[1, -1], [-1, 1]]: the attack (1, -1)/sqrt2 moves both pre-activations by eps sqrt2, one of them up
    W, b = np.array([[1.0, -1.0]]), np.zeros(2)
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.5]])
    loss, _ = vulnerability(W, b, x, np.ones(2), EPS)
    assert loss == pytest.approx(2 * EPS**2, rel=1e-9)
    assert vulnerability(W, np.full(2, -1.0), np.zeros((1, 2)), np.ones(2), EPS)[0] == 0  # the bias absorbs it


def test_the_worst_feature_is_taken():
    # features 1 and 2 share a direction: attacking either moves both outputs by eps sqrt2 (4 eps^2); feature 0: eps^2
    W, b = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]), np.zeros(3)
    loss, worst = vulnerability(W, b, np.zeros((2, 3)), np.ones(3), EPS)
    assert loss == pytest.approx(4 * EPS**2, rel=1e-9) and worst == 1


def test_attack_norm_and_inputs():
    assert attack_norm(np.array([[3.0, 4.0], [0.0, 0.0]])) == pytest.approx(0.25)  # 0.1 x mean(5, 0)
    x = sample_inputs(3, [1.0, 0.5, 0.1], samples=40_000)
    np.testing.assert_allclose((x > 0).mean(axis=0), [1.0, 0.5, 0.1], atol=0.01)
    assert x.min() >= 0 and x.max() <= 1
