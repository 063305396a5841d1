"""model.kind=privileged: h = ReLU(W x), x' = ReLU(W^T h + b) (tied, no hidden bias), trained fused like the toy model;
the per-neuron measure (features in a neuron: shares of squared weight; W_ji > t beside) on hand-made weights."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from analysis.experiments.privileged import (
    DEDICATED,
    EIGHT_POLY,
    FIVE_IN_THREE,
    PAIRS,
    SIX_IN_FOUR,
    THREE_IN_TWO,
    effective,
    inside,
    neuron_summary,
    precise,
    regime,
    shares,
    verdict,
)
from analysis.run import Run
from sweep.grid import build_grid
from sweep.kinds import KINDS
from sweep.metrics import neuron_features, polysemantic_neurons
from sweep.train import train_grid
from tests.conftest import make_config


def test_the_privileged_model_is_relu_of_w_transpose_relu_of_w_x():
    W = jax.random.normal(jax.random.key(0), (3, 7))
    b = jax.random.normal(jax.random.key(1), (7,)) * 0.1
    x = jax.random.uniform(jax.random.key(2), (16, 7))
    expected = jax.nn.relu(jax.nn.relu(x @ W.T) @ W + b)
    out_t = KINDS["privileged"].forward({"W": W, "b": b}, x.T)
    np.testing.assert_allclose(out_t.T, expected, rtol=1e-6, atol=1e-6)
    # the hidden ReLU matters: the toy model's output differs where W x has negative entries
    assert not np.allclose(KINDS["relu"].forward({"W": W, "b": b}, x.T).T, expected)


def test_privileged_models_train_fused_as_alone():
    cfg = make_config(model={"kind": "privileged", "n_features": 6, "n_hidden": 3}, density=[1.0, 0.1], seed=[0, 1],
                      steps=60, batch_size=64, exec={"log_every": 30, "eval_max_batches": 32})
    grid = build_grid(cfg)
    fused = train_grid(cfg, grid)
    alone = train_grid(cfg, grid.select([3]))
    np.testing.assert_allclose(alone.W[0], fused.W[3], atol=1e-5)
    np.testing.assert_allclose(alone.final_loss[0], fused.final_loss[3], rtol=1e-5)
    assert np.isfinite(fused.final_loss).all()


N, M = 10, 5


def test_features_in_neurons():
    dedicated = np.hstack([np.eye(5), np.zeros((5, 5))])
    s = neuron_summary(dedicated)
    assert s["dedicated"] and s["represented"] == 5 and verdict(s, DEDICATED, 5)
    assert polysemantic_neurons(dedicated) == 0 and (neuron_features(dedicated).sum(axis=0) == [1] * 5 + [0] * 5).all()
    # eight features in five neurons, each neuron holding two or more; negative weights do not count
    W = np.full((5, 10), -0.3)
    for j, features in enumerate([(0, 1), (2, 3), (4, 5), (6, 7), (0, 7)]):
        W[j, list(features)] = 0.8
    s = neuron_summary(W)
    assert s["represented"] == 8 and s["polysemantic"] == 5 and verdict(s, EIGHT_POLY, 5) and not verdict(s, PAIRS, 5)
    # every feature in exactly two neurons
    pairs = np.full((5, 10), -0.4)
    for i in range(10):
        pairs[[i % 5, (i + 1) % 5], i] = 0.7
    assert verdict(neuron_summary(pairs), PAIRS, 5) and polysemantic_neurons(pairs) == 5
    assert not verdict(neuron_summary(dedicated), PAIRS, 5)
    stacked = jnp.stack([dedicated, pairs])
    np.testing.assert_array_equal(polysemantic_neurons(np.asarray(stacked)), [0, 5])


def code(*neurons) -> np.ndarray:
    """W (5, 10): neuron j holds the features neurons[j] (weight 0.8), every other weight -0.2."""
    W = np.full((M, N), -0.2)
    for j, features in enumerate(neurons):
        W[j, list(features)] = 0.8
    return W


def test_every_regime_the_paper_names_between_dedicated_and_eight_polysemantic():
    # "the three most important features still get dedicated neurons, but the next three are represented in a kind of
    # binary code by two neuron's activations"
    three = code([0], [1], [2], [3, 4], [3, 5])
    assert verdict(neuron_summary(three), THREE_IN_TWO, 5) and not verdict(neuron_summary(three), FIVE_IN_THREE, 5)
    assert not verdict(neuron_summary(code([0], [1], [2], [2, 3, 4], [3, 5])), THREE_IN_TWO, 5)  # feature 2 shared
    assert not verdict(neuron_summary(code([0], [1], [6], [3, 4], [3, 5])), THREE_IN_TWO, 5)  # not the top three
    # "two monosemantic neurons, and three polysemantic neurons"; "one monosemantic neuron. The four polysemantic neurons"
    five = code([0], [1], [2, 3], [4, 5], [6, 2])
    six = code([0], [1, 2], [3, 4], [5, 6], [1, 3])
    assert verdict(neuron_summary(five), FIVE_IN_THREE, 5) and not verdict(neuron_summary(five), SIX_IN_FOUR, 5)
    assert verdict(neuron_summary(six), SIX_IN_FOUR, 5) and not verdict(neuron_summary(six), FIVE_IN_THREE, 5)
    assert not verdict(neuron_summary(code([0], [1], [2, 3], [4, 5], [6, 7])), FIVE_IN_THREE, 5)  # 8 features, not 7


def test_a_regime_at_one_density_finds_it_stored_as_float32_and_shared_ends_belong_to_one_regime():
    five = code([0], [1], [2, 3], [4, 5], [6, 2])
    v = regime(run_of(five, np.float32(0.15)), 0.15, 0.15, FIVE_IN_THREE)
    assert v is not None and v.passed
    assert regime(run_of(five, np.float32(0.12)), 0.15, 0.15, FIVE_IN_THREE) is None
    dedicated = np.hstack([np.eye(5), np.zeros((5, 5))])
    assert regime(run_of(dedicated, 0.5), 0.2, 0.5, THREE_IN_TWO) is None  # 0.5 is the dedicated regime's
    assert regime(run_of(dedicated, 0.5), 0.5, 1.0, DEDICATED).passed


# The verdicts of the full-size run (docs/experiments/privileged.md, 2026-12-01): dedicated neurons when dense yes; eight features
# in five polysemantic neurons at 0.05-0.08 no (density 0.065: one neuron monosemantic); every feature in a pair of
# neurons at <= 0.04 no (0.04: 9 features; 0.01: two features' second weight just under 0.5); capacity yes. The regimes
# added in issue 22 (0.2-0.5, 0.15, 0.12) have no full-size verdict yet: printed, not asserted.
# measured 2026-12-07 (docs/experiments/privileged.md, "Rerun"): 14 densities x 32 seeds, issue 25's streams
# and again 2026-12-08 with 'in a neuron' read by shares (the same verdicts; the docs page has the evidence for each FAIL)
PRIVILEGED_VERDICTS = {"1-S >= 0.5": True, "1-S in [0.2, 0.5]": True, "1-S = 0.15": False, "1-S = 0.12": True,
                       "1-S in [0.05, 0.08]": True, "1-S <= 0.04": False, "every trained": True}


@pytest.mark.slow
def test_full_size_privileged_verdicts(tmp_path):
    from analysis.paper import reproduce

    _, facts = reproduce("privileged", [], root=tmp_path, progress=False)
    known = {key: f.passed for f in facts for key in PRIVILEGED_VERDICTS if f.claim.startswith(key)}
    assert known == PRIVILEGED_VERDICTS, [f"{f.claim}: {f.measured}" for f in facts]


# ------------------------------------------------------------ privileged's regime check prints how its verdict moves with


def pairs_code(second: float) -> np.ndarray:
    """Feature i in neurons i mod 5 (weight 0.8) and i+1 mod 5 (weight 0.8; feature 0: `second`)."""
    W = np.zeros((M, N))
    for i in range(N):
        W[i % M, i], W[(i + 1) % M, i] = 0.8, second if i == 0 else 0.8
    return W


def run_of(W, density=0.01) -> Run:
    run = Run("unused")
    run.table = pd.DataFrame([{"run": "r", "model_id": 0, "seed": 0, "feature": f, "density": density,
                               "sparsity": 1 - density, "importance": 0.75 ** f, "status": "ok", "loss": 0.1,
                               "exact_loss": np.nan, "n_hidden": M, "n_features": N} for f in range(N)])
    run.weights = {"r": {"W": W[None].astype(np.float32), "b": np.zeros((1, N), np.float32), "model_id": np.arange(1)}}
    return run


def test_the_verdict_is_printed_at_every_threshold():
    # the full-size run's density 0.01 (issue 22): a second weight of 0.45 is a pair at 0.3 and 0.4, not at 0.5 or 0.6;
    # its share of feature 0's squared weight (0.24) makes a participation ratio of 1.57: two neurons, a pair
    v = regime(run_of(pairs_code(0.45)), 0.0, 0.04, PAIRS)
    assert v.passed and "verdict by threshold 0.3:PASS 0.4:PASS 0.5:FAIL 0.6:FAIL" in v.measured
    v = regime(run_of(pairs_code(0.7)), 0.0, 0.04, PAIRS)
    assert v.passed and "0.3:PASS 0.4:PASS 0.5:PASS 0.6:PASS" in v.measured
    v = regime(run_of(pairs_code(0.2)), 0.0, 0.04, PAIRS)  # share 0.06, ratio 1.13: feature 0 on one neuron
    assert not v.passed and "0.3:FAIL 0.4:FAIL 0.5:FAIL 0.6:FAIL" in v.measured


# ------------------------------------------------------------ "in a neuron" without a threshold: shares of squared weight


def test_shares_split_the_squared_positive_weight_and_ratios_count_equal_weights():
    W = np.array([[0.6, -0.9, 0.0, 0.3], [0.8, 0.5, 0.0, 0.3], [0.0, 0.5, 0.0, 0.3]])
    per_feature, per_neuron = shares(W)
    np.testing.assert_allclose(per_feature[:, 0], [0.36, 0.64, 0.0])  # 0.6^2 + 0.8^2 = 1
    np.testing.assert_allclose(per_feature[:, 1], [0.0, 0.5, 0.5])  # the negative weight only inhibits: no share
    np.testing.assert_allclose(per_feature[:, 2], 0.0)  # no positive weight: no share, in no neuron
    np.testing.assert_allclose(per_neuron.sum(axis=1), 1.0)
    np.testing.assert_allclose(effective(per_feature, 0), [1 / (0.36**2 + 0.64**2), 2.0, 0.0, 3.0])
    np.testing.assert_array_equal(inside(W)[:, 2], False)


def test_small_leftover_weights_leave_a_neuron_monosemantic_and_a_feature_unrepresented():
    # one large weight and three of 0.15 per neuron: ratio 1.14, one feature; W_ji > 0.1 would call it polysemantic
    W = np.hstack([np.eye(5), np.zeros((5, 5))])
    W[:, 5:8] = 0.15
    s = neuron_summary(W)
    assert s["dedicated"] and s["represented"] == 5 and verdict(s, DEDICATED, 5), s
    assert not verdict(neuron_summary(W, 0.1), DEDICATED, 5)
    # a feature whose whole (small) weight is on one neuron is that neuron's only in its own shares, not the neuron's
    W = np.hstack([np.eye(5), np.zeros((5, 5))])
    W[0, 5] = 0.05
    assert verdict(neuron_summary(W), DEDICATED, 5) and neuron_summary(W)["represented"] == 5


def test_precise_ranks_by_the_paired_gap_on_shared_samples_not_by_the_evaluated_loss():
    # the evaluation put the empty model (W = 0: nothing represented) first; on 2^20 shared samples the pairs code wins
    # (both with b = -0.45: loss 0.0043 against 0.0050, measured on 16,384 samples)
    # (a third model at 1-S = 0.1, between the paper's regimes, is left out)
    Ws, losses, densities = [np.zeros((M, N)), pairs_code(0.7), np.zeros((M, N))], [0.09, 0.10, 0.1], [0.04, 0.04, 0.1]
    rows = [{"run": "r", "model_id": i, "seed": i % 2, "feature": f, "density": densities[i], "sparsity": 1 - densities[i],
             "importance": 0.75 ** f, "status": "ok", "loss": losses[i], "loss_se": 0.01, "exact_loss": np.nan,
             "model_kind": "privileged", "n_features": N, "n_hidden": M, "distribution": "uniform",
             "correlation": "none", "set_size": 1} for i in range(3) for f in range(N)]
    run = Run("unused")
    run.table = pd.DataFrame(rows)
    run.weights = {"r": {"W": np.stack(Ws).astype(np.float32), "b": np.full((3, N), -0.45, np.float32),
                         "model_id": np.arange(3)}}
    table = precise(run)
    assert table["seed"].tolist() == [1, 0] and table["passed"].tolist() == [True, False], table
    assert table["paired_gap"].iloc[0] == 0.0 and table["paired_gap"].iloc[1] > 10 * table["paired_se"].iloc[1]
    assert (table["regime"] == PAIRS).all() and table["picture"].iloc[1].startswith("0 features in neurons")


def test_a_neurons_unequal_weights_do_not_drop_a_feature_from_its_pair():
    # the lowest-loss seed of the 32-seed run at 1-S = 0.02 (2026-12-08): neuron 2 holds features 0, 2, 3, 8 with
    # 0.76/0.72/0.54/0.96 (participation ratio 3.5); feature 3 is in neurons 0 and 2 (0.81, 0.54: ratio 1.7): a pair
    W = np.array([[-1.01, -0.70, -0.66, 0.81, -0.57, -0.79, 0.85, 0.84, 0.19, 0.69],
                  [0.64, 0.67, -1.72, -0.78, 0.72, -0.76, -0.11, 0.88, -0.07, -0.34],
                  [0.76, -1.98, 0.72, 0.54, -0.43, -0.47, -0.14, -0.29, 0.96, -0.50],
                  [-0.75, -1.04, -0.68, -0.92, 0.78, 0.77, 0.14, -0.14, 0.87, 0.70],
                  [-1.77, 0.74, 0.69, -0.55, -0.67, 0.62, 0.99, -0.22, -0.04, -0.44]])
    s = neuron_summary(W)
    assert s["per_feature"].tolist() == [2] * 10 and verdict(s, PAIRS, 5), s
