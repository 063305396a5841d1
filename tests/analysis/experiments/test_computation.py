"""model.kind=abs (computation in superposition): y' = ReLU(W2 ReLU(W1 x) + b) against a hand-written forward pass and
trained on |x|; the signed U[-1, 1] law (data.distribution=signed_uniform); fused == alone == sharded; the paper's
rescaling and the per-neuron measure on hand-made weights (analysis/neurons.py, docs/experiments/computation.md)."""
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from analysis.experiments import computation
from analysis.neurons import constant_loss, neuron_summary, pair_code_loss
from sweep.data import sample_features
from sweep.grid import build_grid
from sweep.kinds import KINDS
from sweep.metrics import abs_neuron_features, alive_neurons, rescaled
from sweep.train import Trainer, train_grid
from tests.conftest import make_config

ABS = {"model": {"kind": "abs", "n_features": 6, "n_hidden": 4}, "data": {"distribution": "signed_uniform"}}
SMALL = dict(steps=60, batch_size=64, exec={"log_every": 30, "eval_max_batches": 32})


def test_the_abs_model_is_relu_of_w2_relu_of_w1_x_trained_on_abs_x():
    W1 = jax.random.normal(jax.random.key(0), (3, 7))
    W2 = jax.random.normal(jax.random.key(1), (7, 3))
    b = jax.random.normal(jax.random.key(2), (7,)) * 0.1
    x = jax.random.uniform(jax.random.key(3), (16, 7), minval=-1, maxval=1)
    expected = jax.nn.relu(jax.nn.relu(x @ W1.T) @ W2.T + b)
    params = {"W": W1, "W2": W2, "b": b}
    np.testing.assert_allclose(KINDS["abs"].forward(params, x.T).T, expected, rtol=1e-6, atol=1e-6)
    # untied: W2 is not W1^T (the tied kind with the same hidden ReLU, on the same W1, differs)
    assert not np.allclose(KINDS["privileged"].forward({"W": W1, "b": b}, x.T).T, expected)
    # the loss: importance-weighted squared error against |x|, mean over batch and features
    cfg = make_config(model={"kind": "abs", "n_features": 7, "n_hidden": 3}, data={"distribution": "signed_uniform"})
    importance = jnp.linspace(1.0, 0.2, 7)
    loss = Trainer(cfg).loss(params, x.T, importance)
    np.testing.assert_allclose(loss, jnp.mean(importance * (jnp.abs(x) - expected) ** 2), rtol=1e-6)


def test_init_is_xavier_normal_per_matrix_and_keeps_w():
    """W1 and W2 each Xavier-normal (std sqrt(2/(m+n))), independent draws; W1 is what the tied model would draw."""
    key = jax.random.key(7)
    untied, tied = KINDS["abs"].init(key, 40, 10), KINDS["relu"].init(key, 40, 10)
    assert untied["W2"].shape == (40, 10) and untied["W"].shape == (10, 40)
    np.testing.assert_array_equal(untied["W"], tied["W"])
    for W in (untied["W"], untied["W2"]):
        assert float(jnp.std(W)) == pytest.approx(np.sqrt(2 / 50), rel=0.1)
    assert abs(np.corrcoef(np.ravel(untied["W"]), np.ravel(untied["W2"].T))[0, 1]) < 0.1


@pytest.mark.parametrize("rng", ["fast", "threefry"])
def test_signed_uniform_features_are_u_minus_1_1_where_present(rng):
    density = jnp.array([1.0, 0.3, 0.02])
    x = np.asarray(sample_features(jax.random.key(1), density, 200_000, "signed_uniform", rng))
    present = x != 0
    np.testing.assert_allclose(present.mean(axis=0), density, atol=0.004)
    for i in range(3):
        values = np.sort(x[present[:, i], i])
        assert values.min() >= -1 and values.max() < 1
        ks = np.abs((values + 1) / 2 - np.arange(1, len(values) + 1) / len(values)).max()
        assert ks < 1.95 / np.sqrt(len(values)), ks  # Kolmogorov-Smirnov against U[-1, 1], 0.1% level
    uniform = np.asarray(sample_features(jax.random.key(1), density, 1000, "uniform", rng))
    np.testing.assert_allclose(np.asarray(sample_features(jax.random.key(1), density, 1000, "signed_uniform", rng)),
                               np.where(uniform != 0, 2 * uniform - 1, 0), atol=1e-6)  # the same draw, mapped
    np.testing.assert_array_equal(sample_features(jax.random.key(2), density, 64, "signed_uniform", rng, features_first=True),
                                  np.asarray(sample_features(jax.random.key(2), density, 64, "signed_uniform", rng)).T)


def test_signed_uniform_keeps_the_set_laws():
    x = np.asarray(sample_features(jax.random.key(3), jnp.full(4, 0.3), 100_000, "signed_uniform",
                                   correlation="correlated", set_size=2))
    on = x != 0
    assert (on[:, 0] == on[:, 1]).mean() > 0.9999 and (x < 0).any() and x.min() >= -1
    assert abs(x[on].mean()) < 0.01 and x[on].var() == pytest.approx(1 / 3, abs=0.01)


def test_abs_models_train_fused_as_alone_and_sharded_as_on_one_device():
    cfg = make_config(**ABS, density=[1.0, 0.1], seed=[0, 1], optim={"lr": 1e-2}, **SMALL)
    grid = build_grid(cfg)
    fused = train_grid(cfg, grid)  # the model axis sharded over every local device (2 on the 2-core CPU)
    assert fused.W.shape == (4, 4, 6) and fused.params["W2"].shape == (4, 6, 4) and np.isfinite(fused.final_loss).all()
    for i in (1, 2):
        alone = train_grid(cfg, grid.select([i]), devices=jax.devices()[:1])
        for name in ("W", "W2", "b"):
            np.testing.assert_allclose(alone.params[name][0], fused.params[name][i], atol=1e-5)
        np.testing.assert_allclose(alone.final_loss[0], fused.final_loss[i], rtol=1e-5)
    assert not np.allclose(fused.params["W2"], np.swapaxes(fused.W, 1, 2), atol=1e-2)  # W2 trains on its own


# ------------------------------------------------------------ the measure (sweep/metrics.py, analysis/neurons.py)


def pairs(n: int, scale=None) -> tuple[np.ndarray, np.ndarray]:
    """A ReLU(x_i) and a ReLU(-x_i) neuron per feature, gains split unevenly between W1 and W2 (scale per neuron)."""
    W1 = np.zeros((2 * n, n))
    W2 = np.zeros((n, 2 * n))
    for i in range(n):
        W1[2 * i, i], W1[2 * i + 1, i] = 1.0, -1.0
        W2[i, 2 * i] = W2[i, 2 * i + 1] = 1.0
    scale = np.linspace(0.3, 3.0, 2 * n) if scale is None else scale
    return W1 * scale[:, None], W2 / scale[None, :]


def test_rescaling_leaves_the_function_and_sets_each_neurons_largest_w1_to_one():
    W1, W2 = pairs(3)
    W1[0, 1] = 0.02  # a small cross weight
    W1r, W2r = rescaled(W1, W2)
    np.testing.assert_allclose(np.abs(W1r).max(axis=1), 1.0)
    x = np.random.default_rng(0).uniform(-1, 1, (3, 50))
    np.testing.assert_allclose(W2r @ np.maximum(W1r @ x, 0), W2 @ np.maximum(W1 @ x, 0), atol=1e-12)
    np.testing.assert_allclose(W2r @ np.maximum(W1r @ x, 0), np.abs(x), atol=0.07)  # 0.02 / 0.3 of x_1 leaks
    stacked = rescaled(np.stack([W1, 2 * W1]), np.stack([W2, W2 / 2]))  # works on stacks; invariant to the split
    np.testing.assert_allclose(stacked[0][0], stacked[0][1])
    np.testing.assert_allclose(stacked[1][0], stacked[1][1])


def test_a_pair_per_feature_is_monosemantic_and_dedicated():
    W1, W2 = pairs(3)
    s = neuron_summary(W1, W2)
    assert s["pairs"] == 3 and s["alive"] == 6 and s["polysemantic"] == 0 and s["dedicated"].all() and s["prefix"] == 3
    assert s["crosstalk"] == 0.0
    assert abs_neuron_features(W1, W2).sum() == 6 and alive_neurons(W1, W2).all()
    # a neuron with two features (either sign counts), and one dead (its output weights ~0)
    W1[0, 2], W2[:, 5] = -0.7 * W1[0, 0], 0.01
    s = neuron_summary(W1, W2)
    assert s["alive"] == 5 and s["dead"] == 1 and s["polysemantic"] == 1 and s["monosemantic"] == 4
    assert list(s["per_feature"]) == [2, 2, 2] and list(s["dedicated"]) == [False, True, False] and s["prefix"] == 0
    assert s["pairs"] == 1 and s["crosstalk"] == pytest.approx(0.7)  # feature 2's pair lost its ReLU(-x) neuron
    # two neurons of the same sign are not a pair
    W1, W2 = pairs(2)
    W1[1, 0] = 1.0
    assert neuron_summary(W1, W2)["pairs"] == 1


def test_the_best_constant_output_loss():
    rng = np.random.default_rng(1)
    for density in (1.0, 0.3):
        x = np.where(rng.uniform(size=(400_000, 2)) < density, rng.uniform(-1, 1, (400_000, 2)), 0.0)
        y = np.abs(x)
        measured = np.mean(np.array([1.0, 0.5]) * (y - y.mean(axis=0)) ** 2)
        assert constant_loss(density, [1.0, 0.5]) == pytest.approx(measured, rel=0.01)
    assert constant_loss(1.0, [1.0]) == pytest.approx(1 / 12)


def code_loss(W1, W2, b, importance, density, rng, samples=400_000) -> float:
    """Monte Carlo loss of y' = ReLU(W2 ReLU(W1 x) + b) against |x| on the signed U[-1, 1] law."""
    n = W1.shape[1]
    x = np.where(rng.uniform(size=(samples, n)) < density, rng.uniform(-1, 1, (samples, n)), 0.0)
    y = np.maximum(np.maximum(x @ W1.T, 0) @ W2.T + b, 0)
    return float(np.mean(np.asarray(importance) * (np.abs(x) - y) ** 2))


def test_the_pair_code_loss_against_monte_carlo():
    """m/2 = 2 pairs over n = 6 features (importance 0.8^i): pairs for the two most important, E|x| = d/2 elsewhere."""
    rng, importance = np.random.default_rng(2), 0.8 ** np.arange(6)
    for density in (1.0, 0.3):
        W1, W2 = pairs(2, scale=np.ones(4))
        W1, W2 = np.hstack([W1, np.zeros((4, 4))]), np.vstack([W2, np.zeros((4, 4))])
        b = np.r_[0.0, 0.0, [density / 2] * 4]
        measured = code_loss(W1, W2, b, importance, density, rng)
        assert pair_code_loss(density, importance, 4) == pytest.approx(measured, rel=0.01)
        # the same pairs on the two least important features cost more
        swapped = code_loss(W1[:, ::-1], W2[::-1], b[::-1], importance, density, rng)
        assert swapped > 1.5 * measured
    # the experiment's setting: n=100, m=40, 0.8^i, dense: sum_{i>=20} 0.8^i / (12 * 100)
    assert pair_code_loss(1.0, 0.8 ** np.arange(100), 40) == pytest.approx(4.80e-5, rel=0.01)


# The verdicts of the full-size sweep (docs/experiments/computation.md, issue 22, 2026-12-08: 4 seeds x peak lr 1e-3 and
# 0.05, warmup and cosine, 10,000 steps, the lowest-loss fit per density): dense pair code no (19 of the 20 pairs: the
# pair of feature 19 on feature 20, ratio 1.05); dense monosemantic yes; increasingly polysemantic yes; features 0..2
# dedicated in some regime no; all polysemantic at 0.001 yes; sum R2 > m/2 + 1 no (4.4); more than m features in
# neurons no (38 at 0.5); capacity yes
COMPUTATION_VERDICTS = [False, True, True, False, True, False, False, True]


@pytest.mark.slow
def test_full_size_computation_verdicts(tmp_path):
    from analysis.paper import reproduce

    _, facts = reproduce("computation", [], root=tmp_path, progress=False)
    assert [f.passed for f in facts] == COMPUTATION_VERDICTS, [f"{f.claim}: {f.measured}" for f in facts]


# ---------------------------------------------------------------- the claims on hand-built weights (issue 22)
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
        self.table = pd.DataFrame([{"run": "r", "model_id": k, "feature": i, "importance": IMPORTANCE[i], "seed": 0,
                                    "density": d} for k, d in enumerate(models) for i in range(N)])

    def setting(self, name):
        return {"n_hidden": M, "n_features": N}[name]

    def W(self, row, name="W"):
        W1, W2, _ = list(self.models.values())[int(row["model_id"])]
        return W1 if name == "W" else W2

    def weights_of(self, row, name="W"):
        return self.W(row, name), np.zeros(N)

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
    # "in some regimes": a density with monosemantic and polysemantic neurons that dedicates the top features
    monkeypatch.setattr(computation, "TOP_DEDICATED", 2)
    assert not computation.important_dedicated(run).passed  # no density mixes both kinds: the pair codes are all mono
    mixed = mixed_code()
    verdict = computation.important_dedicated(FakeRun({1.0: dense, 0.1: mixed, 0.001: sparse}))
    assert verdict.passed and verdict.measured.endswith("0.1: 2")  # 1.0 (all mono) and 0.001 (all poly) not read
    monkeypatch.setattr(computation, "TOP_DEDICATED", 3)  # feature 2 is in the polysemantic neurons
    assert not computation.important_dedicated(FakeRun({1.0: dense, 0.1: mixed})).passed


def mixed_code() -> tuple[np.ndarray, np.ndarray, float]:
    """Features 0 and 1 on their own neurons (0: +/- pair, 1: one neuron), features 2..4 sharing the last neuron."""
    W1, W2 = np.zeros((M, N)), np.zeros((N, M))
    W1[0, 0], W1[1, 0], W1[2, 1], W1[3, 2:5] = 1.0, -1.0, 1.0, [1.0, 0.9, 0.8]
    W2[0, :2] = W2[1, 2] = W2[2:5, 3] = 1.0
    return W1, W2, 1.0


def test_more_features_than_neurons_and_the_count_by_threshold():
    W1, W2 = np.zeros((M, N)), np.ones((N, M))
    W1[:, :4] = np.eye(M)  # 4 features, one neuron each: not more than m = 4
    run = FakeRun({1.0: (*pair_code([0, 1]), 1.0), 0.001: (W1, W2, 1.0)})
    assert not computation.more_than_neurons(run).passed
    W1[3, 4:6] = [0.55, 0.35]  # the fourth neuron holds feature 4 (and feature 5 at thresholds below 0.35)
    verdict = computation.more_than_neurons(FakeRun({1.0: (*pair_code([0, 1]), 1.0), 0.001: (W1, W2, 1.0)}))
    assert verdict.passed and verdict.measured.endswith("by threshold 0.3:6:PASS 0.4:5:PASS 0.5:5:PASS 0.6:4:FAIL")


def test_computed_in_superposition_beyond_m_over_2(monkeypatch):
    run = FakeRun({1.0: (*pair_code([0, 1]), 1.0), 0.001: (*pair_code([0, 1]), 1.0)})
    r2 = np.r_[1.0, 1.0, 0.01, 0.0, 0.0, 0.0]  # a pair code: m/2 = 2 features' worth, and a little noise
    monkeypatch.setattr(computation, "computed_features", lambda W1, W2, b, d: r2)
    assert not computation.computed_in_superposition(run).passed
    r2[2:] = 0.3  # four more features computed a little: 3.2 features' worth on 4 neurons
    assert computation.computed_in_superposition(run).passed
    assert computation.computed_in_superposition(FakeRun({1.0: (*pair_code([0, 1]), 1.0)})) is None  # never sparse


def test_each_density_reads_its_lowest_loss_fit_over_seeds_and_lrs():
    run = FakeRun({1.0: (*pair_code([0, 2]), 2.0), 0.5: (*pair_code([0, 1]), 1.0), 0.1: (*polysemantic(), 1.0)})
    run.best.loc[1, "density"] = 1.0  # a second fit at 1-S = 1 (another lr), with the lower loss
    best = computation.best_per_density(run)
    assert list(best["density"]) == [1.0, 0.1] and list(best["model_id"]) == [1, 2]
