"""The computation claims (analysis/experiments/computation.py) on hand-built weights: the dense pair code against its
closed-form loss, the sparsest density's "all neurons are highly polysemantic", and the dedicated-features claim kept to
the densities above 1-S = 0.001."""
import numpy as np
import pandas as pd

from analysis.experiments import computation
from analysis.neurons import pair_code_loss

N, M = 6, 4
IMPORTANCE = 0.8 ** np.arange(N)


def pair_code(features) -> tuple[np.ndarray, np.ndarray]:
    """A ReLU(x_i) and a ReLU(-x_i) neuron for each of `features`."""
    W1, W2 = np.zeros((M, N)), np.zeros((N, M))
    for k, i in enumerate(features):
        W1[2 * k, i], W1[2 * k + 1, i] = 1.0, -1.0
        W2[i, 2 * k] = W2[i, 2 * k + 1] = 1.0
    return W1, W2


def polysemantic() -> tuple[np.ndarray, np.ndarray]:
    """Every neuron holds features 0..2 (rescaled weights 1, 0.8, 0.6), gain 1."""
    W1 = np.tile([1.0, 0.8, 0.6, 0, 0, 0], (M, 1)) * np.array([1, -1, 1, -1])[:, None]
    return W1, np.ones((N, M))


class FakeRun:
    """What the claims read from a Run: `best` (one row per density), `table`, `setting`, `W`, `once`."""

    def __init__(self, models: dict):  # {density: (W1, W2, loss)}
        self.models = models
        self.best = pd.DataFrame([{"run": "r", "model_id": k, "density": d, "loss": loss, "seed": 0}
                                  for k, (d, (_, _, loss)) in enumerate(models.items())])
        self.table = pd.DataFrame([{"run": "r", "model_id": k, "feature": i, "importance": IMPORTANCE[i], "seed": 0}
                                   for k in range(len(models)) for i in range(N)])

    def setting(self, name):
        return {"n_hidden": M, "n_features": N}[name]

    def W(self, row, name="W"):
        W1, W2, _ = list(self.models.values())[int(row["model_id"])]
        return W1 if name == "W" else W2

    def once(self, f):
        return f(self)


def test_dense_pair_code_needs_the_top_pairs_and_their_loss():
    best = pair_code_loss(1.0, IMPORTANCE, M)
    assert computation.dense_pair_code(FakeRun({1.0: (*pair_code([0, 1]), 1.02 * best)})).passed
    assert not computation.dense_pair_code(FakeRun({1.0: (*pair_code([0, 1]), 1.2 * best)})).passed  # under-trained
    assert not computation.dense_pair_code(FakeRun({1.0: (*pair_code([0, 2]), best)})).passed  # feature 1 has no pair


def test_sparsest_all_polysemantic_and_dedicated_only_above_it(monkeypatch):
    dense, sparse = (*pair_code([0, 1]), 1.0), (*polysemantic(), 1.0)
    run = FakeRun({1.0: dense, 0.1: (*pair_code([0, 1]), 1.0), 0.001: sparse})
    assert computation.all_polysemantic_when_sparsest(run).passed
    assert not computation.all_polysemantic_when_sparsest(FakeRun({1.0: dense, 0.001: dense})).passed
    assert computation.all_polysemantic_when_sparsest(FakeRun({1.0: dense})) is None  # no 1-S = 0.001 in the run
    # the pair code dedicates features 0 and 1: with the top 2 required, the run passes, as 1-S = 0.001 is not read
    monkeypatch.setattr(computation, "TOP_DEDICATED", 2)
    verdict = computation.important_dedicated(run)
    assert verdict.passed and "0.001" not in verdict.measured and "0.1: 2" in verdict.measured
    assert not computation.important_dedicated(FakeRun({1.0: dense, 0.1: sparse})).passed
