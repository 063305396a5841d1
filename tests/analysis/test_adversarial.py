"""The analytic attack (analysis/adversarial.py) on hand-built weights, against hand-computed numbers."""
from __future__ import annotations

import numpy as np
import pytest

from analysis.adversarial import (
    READINGS,
    attack_norm,
    orthogonal,
    readings,
    relative_vulnerability,
    sample_inputs,
    vulnerability,
)
from analysis.run import Run
from tests.conftest import train_run

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


def test_per_example_takes_each_inputs_worst_feature():
    # two orthogonal features, W^T W = 1.5 I, b = -0.5: a present feature (value 1) is output exactly, an absent one's
    # attack is clipped. Attacking feature 0 moves input 0's output by 1.5 eps and nothing else, feature 1 input 1's.
    # One attack for the sample: (1.5 eps)^2 on half the inputs; the worst per input: (1.5 eps)^2 on both
    W, b = np.sqrt(1.5) * np.eye(2), np.full(2, -0.5)
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert vulnerability(W, b, x, np.ones(2), EPS)[0] == pytest.approx((1.5 * EPS) ** 2 / 2, rel=1e-9)
    assert vulnerability(W, b, x, np.ones(2), EPS, per_example=True)[0] == pytest.approx((1.5 * EPS) ** 2, rel=1e-9)
    # the model without superposition (b = 0) loses eps^2 on every input under either reading
    W0, b0 = orthogonal(4, 2)
    x0 = sample_inputs(4, 0.2, samples=300)
    assert vulnerability(W0, b0, x0, np.ones(4), EPS, per_example=True)[0] == pytest.approx(EPS**2, rel=1e-9)


def test_the_average_norm_of_the_nonzero_inputs():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    assert attack_norm(x) == pytest.approx(0.1 * 6 / 4)
    assert attack_norm(x, nonzero=True) == pytest.approx(0.1 * 6 / 2)


def test_readings_of_a_run(tmp_path):
    run = Run(train_run(tmp_path / "run", {"model": {"n_features": 6, "n_hidden": 2}, "density": [1.0, 0.1],
                                           "seed": [0, 1, 2], "steps": 300, "batch_size": 256}))
    table = readings(run)
    assert len(table) == 6 and set(READINGS) <= set(table.columns)
    assert table.groupby("density")["precise_best"].sum().tolist() == [1, 1]  # one precise pick per density
    quick = readings(run, precise=False)
    assert "precise_best" not in quick and quick["both"].tolist() == table["both"].tolist()
    best = readings(run, precise=False, best_only=True)  # the lowest loss per density: each density's first row
    assert best["seed"].tolist() == table.groupby("density", sort=False)["seed"].first().tolist()
    row = run.models.sort_values("loss").iloc[0]
    W, b = (a.astype(np.float64) for a in run.weights_of(row))
    importance = 0.9 ** np.arange(6)  # the default importance
    mine = table[(table["density"] == row["density"]) & (table["seed"] == row["seed"])].iloc[0]
    assert mine["per_example"] == pytest.approx(
        relative_vulnerability(W, b, row["density"], importance, per_example=True)["relative"])
    assert mine["paper"] == pytest.approx(relative_vulnerability(W, b, row["density"], importance)["relative"])
