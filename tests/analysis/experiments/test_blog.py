"""The blog post's claims (analysis/measures.py): each test on weights built by hand, where the answer is known;
a CI-sized training run of the blog's N(0,1) models; the full-size verdicts (slow)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from analysis.experiments import blog
from analysis.experiments import blog_measures as measures
from analysis.paper import reproduce
from analysis.run import Run
from sweep.metrics import interference, pairwise_angles
from sweep.run import run, validate
from tests.conftest import ROOT


def at(*degrees, norms=None):
    """W (2, n) with feature i at angle degrees[i] and norm norms[i] (default 1)."""
    theta = np.radians(degrees)
    norms = np.ones(len(degrees)) if norms is None else np.asarray(norms, float)
    return np.stack([np.cos(theta), np.sin(theta)]) * norms


def model(W, b=None, distribution="uniform", density=0.1, peers=None):
    b = np.zeros(W.shape[1]) if b is None else np.asarray(b, float)
    x = measures.sample(density, distribution, W.shape[1], np.random.default_rng(0))
    return measures.Model(W, b, x, peers or {})


PCA = np.array([[1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0]])
PENTAGON = at(0, 72, 144, 216, 288)


def test_interference_and_angles():
    W = at(0, 90, 180, 45, norms=[1, 2, 1, 0])
    # W_i . W_j: (0, 90) 0, (0, 180) -1, (90, 180) 0; feature 3 has norm 0
    np.testing.assert_allclose(interference(W), [-1, 0, -1, 0], atol=1e-12)
    angles = pairwise_angles(W)
    np.testing.assert_allclose(angles[:3, :3], [[0, 90, 180], [90, 0, 90], [180, 90, 0]], atol=1e-5)
    assert np.isnan(angles[3]).all() and np.isnan(angles[:, 3]).all()
    np.testing.assert_allclose(interference(PENTAGON), 2 * np.cos(np.radians(72)) + 2 * np.cos(np.radians(144)))


def test_linear_claims_hold_for_pca_and_not_for_a_rotated_feature():
    tests = (measures.pca_pair, measures.rest_near_zero, measures.like_pca, measures.bias_near_zero,
             measures.interference_near_zero)
    assert all(test(model(PCA))[0] for test in tests)
    skewed = PCA.copy()
    skewed[:, 1] = at(45)[:, 0]
    assert not measures.pca_pair(model(skewed))[0]
    assert not measures.like_pca(model(skewed))[0]
    assert not measures.interference_near_zero(model(skewed))[0]
    leaky = PCA.copy()
    leaky[:, 3] = [0.2, 0.0]
    assert not measures.rest_near_zero(model(leaky))[0]
    assert not measures.bias_near_zero(model(PCA, b=[0, 0, 0.3, 0, 0]))[0]


def test_two_orthogonal_lines():
    three_two = at(45, 135, 225, 45, 315, norms=[1, 1, 0.5, 0.3, 0.2])
    ok, measured = measures.two_orthogonal_lines(model(three_two))
    assert ok and measured["features per line"] == "3+2"
    assert measures.lines(three_two) == [[0, 2, 3], [1, 4]]
    assert not measures.two_orthogonal_lines(model(PENTAGON))[0]
    assert not measures.two_orthogonal_lines(model(at(45, 105, 225, 45, 285)))[0]  # 3+2 lines, 60 degrees apart
    assert not measures.two_orthogonal_lines(model(at(45, 135, 225, 45, 315, norms=[1, 1, 1, 1, 0.05])))[0]  # 4 lines' worth: 3+1


def test_represented_ranked_unique():
    assert measures.all_represented(model(PENTAGON))[0]
    ok, measured = measures.all_represented(model(at(0, 90, 180, 270, 45, norms=[1, 1, 1, 1, 0.2])))
    assert not ok and measured["norm > 0.5"] == 4
    # the blog's sense: its printed norms 1.02, 1.01, 0.23, 0.18, 0.13 are all represented; a norm near 0 is not
    blog_norms = at(0, 90, 180, 270, 45, norms=[1.02, 1.01, 0.23, 0.18, 0.13])
    assert measures.all_present(model(blog_norms))[0] and not measures.all_represented(model(blog_norms))[0]
    ok, measured = measures.all_present(model(at(0, 90, 180, 270, 45, norms=[1, 1, 0.2, 0.2, 0.05])))
    assert not ok and measured["norm >= 0.1"] == 4
    # ours: the two senses differ on the blog's norms, not on a model whose norms are all near 1 or one near 0
    ok, measured = measures.senses_differ(model(blog_norms))
    assert ok and measured["norm > 0.5"] == 2 and measured["norm >= 0.1"] == 5
    assert not measures.senses_differ(model(PENTAGON))[0]
    assert not measures.senses_differ(model(at(0, 90, 180, 270, 45, norms=[1, 1, 0.2, 0.2, 0.05])))[0]
    assert measures.ranked_by_importance(model(at(0, 90, 0, 0, 0, norms=[1, 0.9, 0.5, 0.3, 0.3])))[0]
    assert not measures.ranked_by_importance(model(at(0, 90, 0, 0, 0, norms=[1, 0.3, 0.9, 0.2, 0.1])))[0]
    assert measures.unique_directions(model(PENTAGON))[0]
    assert not measures.unique_directions(model(at(0, 72, 144, 216, 226)))[0]  # two features 10 degrees apart


def test_bias_cancels_positive_interference():
    W = at(0, 60, 180, 270, 90, norms=[1, 1, 0.3, 0.3, 0.3])  # scores 0.2, 0.35, -0.45, -0.35, 0.17
    positive = np.array([True, True, False, False, False])  # represented (norm > 0.5) with a score > 0.05
    np.testing.assert_array_equal((interference(W) > measures.POSITIVE) & (np.linalg.norm(W, axis=0) > 0.5), positive)
    ok, measured = measures.bias_cancels_positive_interference(model(W, b=np.where(positive, -0.3, 0.1)))
    assert ok and measured["represented features with score > 0.05"] == 2 and measured["any features with score > 0.05"] == 3
    assert not measures.bias_cancels_positive_interference(model(W, b=[-0.3, 0.3, 0, 0, 0]))[0]
    assert not measures.bias_cancels_positive_interference(model(PCA))[0]  # nothing to cancel: the claim is not shown


def test_less_orthogonal_negative_interference_and_what_the_relu_discards():
    peers = {("relu", 0.5): [at(0, 90, 180, 270, 0), at(0, 90, 0, 90, 0)]}
    assert measures.less_orthogonal(model(PENTAGON, peers=peers))[0]
    assert not measures.less_orthogonal(model(at(0, 90, 180, 270, 0), peers={("relu", 0.5): [PENTAGON]}))[0]
    assert not measures.negative_interference(model(PENTAGON))[0]  # in importance order: W_2.W_1 = cos 72 > 0
    # the blog's reading: feature 2 against features 0 and 1; positive scores elsewhere do not count
    fan = at(0, 60, 100, 30, 90, norms=[1, 1, 1, 0.2, 0.2])  # W_2.W_0 = cos 100 < 0, W_2.W_1 = cos 40 > 0
    ok, measured = measures.negative_interference(model(fan))
    assert not ok and measured["W_2.W_0"] < 0 < measured["W_2.W_1"]
    rest_positive = at(0, 60, 180, 30, 45, norms=[1, 1, 1, 0.2, 0.2])  # 2 vs 0, 1 negative; 3, 4 interfere positively
    ok, measured = measures.negative_interference(model(rest_positive))
    assert ok and measured["largest score (any feature)"] > 0
    assert not measures.negative_interference(model(at(0, 60, 120, 180, 240)))[0]  # W_2.W_0 = cos 120 < 0, W_2.W_1 > 0
    # A pentagon with a negative bias on U[0,1] data: its interference on features that are off is almost all
    # negative, so the ReLU zeroes nearly all of it; with signed N(0,1) data half of it flips sign.
    assert measures.relu_discards(model(PENTAGON, b=np.full(5, -0.2)))[0]
    share = measures.relu_discarded(PENTAGON, np.zeros(5), measures.sample(0.1, "normal", 5, np.random.default_rng(0)))
    assert 0.3 < share < 0.7
    assert not measures.relu_discards(model(PENTAGON, distribution="normal"))[0]


def run_of(Ws, sparsity=0.9) -> Run:
    """A Run of one cell (ReLU, N(0,1) data) of the given W (2, 5), b = 0, all tied by the evaluation."""
    rows = [{"run": "r", "model_id": i, "seed": i, "feature": f, "density": 1 - sparsity, "sparsity": sparsity,
             "importance": 0.9**f, "status": "ok", "loss": 0.1, "loss_se": 0.01, "exact_loss": np.nan,
             "model_kind": "relu", "n_features": 5, "n_hidden": 2, "distribution": "normal", "correlation": "none",
             "set_size": 1} for i in range(len(Ws)) for f in range(5)]
    run = Run("unused")
    run.table = pd.DataFrame(rows)
    run.weights = {"r": {"W": np.stack(Ws).astype(np.float32), "b": np.zeros((len(Ws), 5), np.float32),
                         "model_id": np.arange(len(Ws))}}
    return run


def test_negative_interference_is_judged_on_the_seeds_tied_at_the_lowest_loss():
    """The blog reads its one model: the claim holds when a seed tied at the lowest loss has its signs, whatever the
    share of seeds. Feature 2 against 0 and 1 at 120 degrees (the blog's signs) or at 60 (not); a model at 0.3 of the
    norms is far worse."""
    blog_signs, other = at(0, 120, 240, 60, 180, norms=[1, 1, 1, 0.2, 0.2]), at(0, 120, 60, 240, 180, norms=[1, 1, 1, 0.2, 0.2])
    claim = next(c for c in blog.CLAIMS if c.measure is measures.negative_interference)
    for best, worse, passes in ((blog_signs, other, True), (other, blog_signs, False)):
        run = run_of([best, best, 0.3 * worse, 0.3 * worse, 0.3 * worse])
        cell = run.models
        results = [measures.negative_interference(model(run.W(row))) for _, row in cell.iterrows()]
        passed, counts = blog._verdict(run, claim, cell, results)
        assert passed == passes and counts.startswith(f"{2 * passes}/2 of the seeds tied at the lowest loss"), counts
        assert counts.endswith(f"{2 * passes + 3 * (not passes)}/5 seeds in all")  # the majority says the opposite


# ----------------------------------------------------------------------------- the loss normalisation


def loss_scale_gap(steps: int = 300, seeds=(0, 1), kind: str = "relu", extra=()) -> float:
    """Largest |W_sum - W_mean| over the blog's models (N(0,1) data, S = 0, 0.5, 0.9) after `steps` steps:
    the project's loss (mean over features) against the blog's (sum over features, the same as the mean with
    importance x n), from the same initialisation and batches. AdamW is invariant to the loss scale up to eps."""
    import dataclasses

    from sweep.grid import build_grid
    from sweep.train import train_grid

    def config(*overrides):
        with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
            return validate(compose("config", ["experiment=blog", f"model.kind={kind}", f"steps={steps}",
                                               f"seed=[{','.join(map(str, seeds))}]", "exec.progress=false", *overrides]))

    mean = config(*extra)
    n = mean.model.n_features
    summed = config(*extra, "importance.kind=list", f"importance.values=[{','.join(str(n * 0.9**i) for i in range(n))}]")
    grid = build_grid(mean)
    same_init = dataclasses.replace(build_grid(summed), stream=grid.stream)  # the stream hash names the importance
    return float(np.abs(train_grid(summed, same_init).W - train_grid(mean, grid).W).max())


def test_summed_loss_trains_the_same_weights():
    """(With extra=["optim.eps=0.01"], where eps matters, the gap is 0.04: docs/measures.md.)"""
    assert loss_scale_gap(steps=200, seeds=(0,)) < 1e-4


# ----------------------------------------------------------------------------- a CI-sized training run

# Claims the full-size run passes on at least 29 of its 32 seeds (2026-12-08; every seed while it trained 8) and every
# seed of this CI-sized one supports: linear and ReLU models on the blog's N(0,1) data, 3 seeds, 2,000 steps at
# lr 1e-2, batch 256.
UNANIMOUS = {
    "linear S=0: features 0 and 1 orthogonal": True,
    "linear S=0: features 2-4 have norm near 0": True,
    "linear S=0: 'very similar to PCA'": True,
    "linear S=0: bias near 0": True,
    "linear S=0: interference near 0": True,
    "relu S=0.5: ours: the blog's 'represented' is not the paper's": True,
    "relu S=0.9: ours: the blog's 'represented' is not the paper's": True,
    "relu S=0.9: less orthogonal": True,
}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("blog")
    for kind in ("linear", "relu"):
        with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
            cfg = compose("config", ["experiment=blog", f"model.kind={kind}", "steps=2000", "optim.lr=1e-2",
                                     "batch_size=256", "seed=[0,1,2]", "exec.progress=false", "exec.plots=false"])
        run(validate(cfg), root / kind, OmegaConf.to_yaml(cfg))
    return root


def test_small_run_checks(small_run):
    facts = blog.check(Run(small_run, "blog"))
    assert len(facts) == len(blog.CLAIMS)  # one distribution trained: one fact per claim
    for start, expected in UNANIMOUS.items():
        fact = next(f for f in facts if f"] {start}" in f.claim)
        assert fact.measured.startswith("3/3 seeds" if expected else "0/3 seeds"), (fact.claim, fact.measured)
        assert fact.passed == expected


def test_small_run_figures(small_run):
    paths = blog.figures(Run(small_run, "blog"), formats=("png",))
    assert [p.name for p in paths] == ["reproduced.png", "seeds.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)


# ----------------------------------------------------------------------------- full size (docs/measures.md)

# The verdicts of the full-size run (32 seeds), 2026-12-08 (docs/experiments/blog.md): N(0,1) data (the blog's), then
# U[0,1] (ours, a comparison). Per distribution: 5 linear claims; S=0.5: represented (blog's sense; ours: the senses
# differ), ranked, 2 lines, bias; S=0.9: represented (blog's sense; ours), unique, less orthogonal, interference
# (feature 2 vs 0, 1, on the seeds tied at the lowest loss: 3 of the 7 there have the blog's signs), discards.
FULL_SIZE = {
    "normal": [True] * 5 + [True, True, True, True, True] + [True, True, True, True, True, True],
    "uniform": [True] + [False] * 4 + [False, False, False, False, True] + [True, False, True, True, False, True],
}


@pytest.mark.slow
def test_full_size_verdicts(tmp_path):
    """Trains afresh (384 models: 2 min 42 s on the 2-core dev machine, 2026-12-08): the verdicts must still be the
    recorded ones."""
    _, facts = reproduce("blog", [], root=tmp_path, progress=False)
    assert [f.passed for f in facts] == FULL_SIZE["normal"] + FULL_SIZE["uniform"], [f"{f.claim}: {f.measured}" for f in facts]
