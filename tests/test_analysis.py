"""Metrics on hand-computed geometries, seed aggregation rules, loading runs, phase classification,
and one small trained phase-change grid checked against the closed-form theory."""
from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

import analysis
from analysis import phase, theory
from analysis.aggregate import aggregate, cell_columns, select_seeds
from analysis.config import AnalysisConfig, PhaseConfig, TheoryConfig
from sweep import metrics
from sweep.config import build
from sweep.run import run

# ----------------------------------------------------------------------------- metrics by hand


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


# ----------------------------------------------------------------------------- seed aggregation


def synthetic_table(losses, statuses=None, n_features=2):
    """One cell, one model per seed with the given losses; feature norms = 10 * seed + feature."""
    rows = []
    for seed, loss in enumerate(losses):
        for feature in range(n_features):
            rows.append({"run": ".", "model_id": seed, "feature": feature, "seed": seed, "sparsity": 0.9, "density": 0.1,
                         "lr": 1e-3, "weight_decay": 0.01, "importance_decay": 0.9, "model_kind": "relu",
                         "n_features": n_features, "n_hidden": 1, "batch_size": 8, "steps": 10, "distribution": "uniform",
                         "rng": "fast", "importance_kind": "geometric", "schedule": "constant", "loss": loss,
                         "dims_per_feature": 1.0, "n_represented": 1, "importance": 0.9**feature,
                         "status": (statuses or ["ok"] * len(losses))[seed], "norm": 10.0 * seed + feature,
                         "bias": 0.0, "superposition": 0.0, "dimensionality": 1.0, "represented": seed % 2 == 0})
    return pd.DataFrame(rows)


def test_seed_rules():
    table = synthetic_table([0.3, 0.1, 0.5, 0.2])  # seed 2 is worst, seed 1 best
    paper = aggregate(table, "paper").set_index("feature")
    assert paper.loc[0, "n_seeds"] == 3 and paper.loc[0, "seeds"] == "0,1,3"
    assert paper.loc[0, "norm"] == pytest.approx((0 + 10 + 30) / 3)
    assert paper.loc[0, "loss"] == pytest.approx((0.3 + 0.1 + 0.2) / 3)
    assert paper.loc[0, "represented"] == pytest.approx(1 / 3)  # only seed 0 of 0, 1, 3
    best = aggregate(table, "best").set_index("feature")
    assert best.loc[1, "seeds"] == "1" and best.loc[1, "norm"] == 11.0
    mean = aggregate(table, "mean").set_index("feature")
    assert mean.loc[1, "norm"] == pytest.approx(np.mean([1, 11, 21, 31])) and mean.loc[1, "n_trained"] == 4
    # the per-seed rows stay: select_seeds marks them, the input is untouched
    marked = select_seeds(table, "paper")
    assert len(marked) == len(table) and "used" not in table.columns
    assert sorted(marked.loc[marked.used, "seed"].unique()) == [0, 1, 3]


def test_seed_rules_edge_cases():
    one = aggregate(synthetic_table([0.4]), "paper")
    assert (one["n_seeds"] == 1).all()  # a single seed is kept, not dropped
    diverged = synthetic_table([0.3, np.nan, 0.1], statuses=["ok", "diverged", "ok"])
    paper = aggregate(diverged, "paper")
    assert (paper["seeds"] == "2").all() and (paper["n_trained"] == 3).all()
    with pytest.raises(ValueError, match="rule='median'"):
        aggregate(diverged, "median")


def test_cells_do_not_mix_grid_points():
    a, b = synthetic_table([0.1, 0.2]), synthetic_table([0.3, 0.4])
    b["model_id"] += 2
    b["density"], b["sparsity"] = 0.5, 0.5
    cells = aggregate(pd.concat([a, b]), "mean")
    assert len(cells) == 4 and sorted(cells["density"].unique()) == [0.1, 0.5]
    assert "seed" not in cell_columns(a) and "density" in cell_columns(a)


# ----------------------------------------------------------------------------- phases


def test_classify_and_colour():
    config = PhaseConfig()
    labels = phase.classify([0.0, 1.0, 1.0, 0.4], [1.0, 0.0, 1.0, 1.0], config)
    assert list(labels) == ["not_represented", "dedicated", "superposition", "not_represented"]
    rgb = phase.colour([0.0, 1.0, 1.0], [1.0, 0.0, 1.0], config)
    np.testing.assert_allclose(rgb, [phase.WHITE, phase.BLUE, phase.RED])
    np.testing.assert_allclose(phase.colour(0.5, 0.0, config), (phase.WHITE + phase.BLUE) / 2)
    np.testing.assert_allclose(phase.phase_colour(labels[:3]), [phase.WHITE, phase.BLUE, phase.RED])
    stricter = PhaseConfig(superposition=1.5)
    assert phase.classify(1.0, 1.0, stricter) == "dedicated"


def phase_table(exact_losses, losses, norms, superpositions, with_exact=True):
    """One n=2 phase-change cell, one model per seed; the extra feature (1) gets the given norm and superposition."""
    rows = []
    for seed, (exact, loss, norm, sup) in enumerate(zip(exact_losses, losses, norms, superpositions)):
        for feature in range(2):
            row = {"run": ".", "model_id": seed, "feature": feature, "seed": seed, "sparsity": 0.9, "density": 0.1,
                   "lr": 1e-3, "weight_decay": 0.01, "importance_relative": 2.0, "model_kind": "relu", "n_features": 2,
                   "n_hidden": 1, "batch_size": 8, "steps": 10, "distribution": "uniform", "rng": "fast",
                   "importance_kind": "extra", "schedule": "constant", "loss": loss, "dims_per_feature": 1.0,
                   "n_represented": 1, "importance": 2.0 if feature else 1.0, "status": "ok",
                   "norm": norm if feature else 1.0, "bias": 0.0, "superposition": sup if feature else 0.0,
                   "dimensionality": 1.0, "represented": norm > 0.5}
            if with_exact:
                row["exact_loss"] = exact
            rows.append(row)
    return pd.DataFrame(rows)


# seeds 0, 1 antipodal; seed 2 dedicated; seed 3 a near-zero extra feature whose direction "superposes"
BIMODAL = dict(exact_losses=[0.2, 0.3, 0.1, 0.4], losses=[0.05, 0.3, 0.2, 0.4], norms=[1.0, 1.0, 1.0, 1e-3],
               superpositions=[1.0, 1.0, 0.0, 1.5])


def test_best_seed_is_ranked_by_the_exact_loss():
    cells = phase.cell_phases(phase_table(**BIMODAL), "paper")
    assert len(cells) == 1
    cell = cells.iloc[0]
    assert cell["best_seed"] == 2 and cell["phase"] == "dedicated" and cell["ranked_by"] == "exact_loss"
    assert cell["best_loss"] == pytest.approx(0.1)
    assert (cell["frac_superposition"], cell["frac_dedicated"], cell["frac_not_represented"]) == (0.5, 0.25, 0.25)
    assert cell["majority"] == "superposition" and cell["n_seeds"] == 4
    # without exact losses the evaluated loss ranks them (seed 0 here)
    plain = phase.cell_phases(phase_table(**BIMODAL, with_exact=False), "paper").iloc[0]
    assert plain["best_seed"] == 0 and plain["phase"] == "superposition" and plain["ranked_by"] == "loss"
    # every figure's "lowest-loss seed" is the same one
    marked = select_seeds(phase_table(**BIMODAL), "best")
    assert marked.loc[marked.used, "seed"].unique().tolist() == [2]


def test_seeds_are_classified_before_averaging():
    """The mean colour averages each seed's own colour: a near-zero feature is white, never red."""
    seeds = phase.seed_phases(phase_table(**BIMODAL), "mean").set_index("seed")
    np.testing.assert_allclose(seeds.loc[3, list(phase.COLOUR_COLUMNS)].to_numpy(float), phase.WHITE, atol=1e-2)
    assert seeds.loc[3, "phase"] == "not_represented"
    mean = phase.cell_phases(phase_table(**BIMODAL), "mean").iloc[0]
    expected = (2 * phase.RED + phase.BLUE + phase.colour(1e-3, 1.5)) / 4
    np.testing.assert_allclose(mean[list(phase.COLOUR_COLUMNS)].to_numpy(float), expected)
    paper = phase.cell_phases(phase_table(**BIMODAL), "paper").iloc[0]  # drops the worst seed (3)
    np.testing.assert_allclose(paper[list(phase.COLOUR_COLUMNS)].to_numpy(float), (2 * phase.RED + phase.BLUE) / 3)


def test_majority_ties_go_to_the_best_seed():
    tied = dict(BIMODAL, norms=[1.0, 1.0, 1.0, 1.0], superpositions=[1.0, 1.0, 0.0, 0.0])
    cell = phase.cell_phases(phase_table(**tied)).iloc[0]
    assert cell["frac_dedicated"] == cell["frac_superposition"] == 0.5
    assert cell["majority"] == "dedicated" == cell["phase"]


def test_agreement_counts_matching_cells():
    cells = pd.DataFrame({"density": [1.0, 1.0, 0.1], "relative": [0.1, 10.0, 1.0],
                          "phase": ["not_represented", "dedicated", "dedicated"],
                          "majority": ["not_represented", "superposition", "superposition"]})
    theoretical = cells[["density", "relative"]].assign(phase=["not_represented", "dedicated", "superposition"],
                                                        candidate="c", loss=1.0)
    theoretical["phases"] = theoretical["phase"]
    merged = phase.with_theory(cells, theoretical, "optimal")
    assert phase.agreement(merged, "optimal") == pytest.approx(2 / 3)
    assert phase.agreement(merged, "optimal", "majority") == pytest.approx(2 / 3)
    assert phase.agreement(merged.iloc[:2], "optimal", "majority") == pytest.approx(1 / 2)
    with pytest.raises(ValueError, match="no optimal theory cell"):
        phase.with_theory(cells, theoretical.iloc[:2], "optimal")
    with pytest.raises(ValueError, match="theory='exact'"):
        phase.agreement(merged, "exact")


def test_config_validation():
    with pytest.raises(ValueError, match="rule="):
        AnalysisConfig(rule="worst")
    with pytest.raises(ValueError, match="phase.norm"):
        PhaseConfig(norm=-1.0)


# ----------------------------------------------------------------------------- a trained grid


def train(path, overrides):
    cfg = build({"exec": {"progress": False, "plots": False}}, overrides)
    run(cfg, path, OmegaConf.to_yaml(cfg))
    return path


@pytest.fixture(scope="module")
def phase_run(tmp_path_factory):
    """n=2, m=1 with one cell in each region of the paper's phase diagram, 3 seeds."""
    return train(tmp_path_factory.mktemp("runs") / "phase", {
        "model": {"n_features": 2, "n_hidden": 1}, "importance": {"kind": "extra", "relative": [0.2, 5.0]},
        "density": [1.0, 0.03], "seed": [0, 1, 2], "steps": 4000})


def test_load_merges_nested_runs(phase_run, tmp_path):
    multirun = tmp_path / "multirun"
    (multirun / "0").mkdir(parents=True)
    (multirun / "deep" / "1").mkdir(parents=True)
    for target in (multirun / "0", multirun / "deep" / "1"):
        for f in phase_run.iterdir():
            (target / f.name).write_bytes(f.read_bytes())
    (multirun / "incomplete").mkdir()
    (multirun / "incomplete" / "results.parquet").write_bytes((phase_run / "results.parquet").read_bytes())
    table = analysis.load(multirun)
    single = analysis.load(phase_run)
    assert sorted(table["run"].unique()) == ["0", "deep/1"] and (single["run"] == ".").all()
    assert len(table) == 2 * len(single)
    weights = analysis.load_weights(multirun)
    W, b = analysis.model_weights(weights, "deep/1", 3)
    assert W.shape == (1, 2) and b.shape == (2,)
    assert set(analysis.load_history(multirun)["run"]) == {"0", "deep/1"}
    with pytest.raises(analysis.NoRunsError, match="no complete run"):
        analysis.load(multirun / "incomplete")


def test_trained_phases_match_theory(phase_run):
    """Each of the four cells lies deep inside a region of both theoretical diagrams; the best seed must agree."""
    cells = phase.compare(analysis.load(phase_run), theory_config=TheoryConfig(steps=200))
    assert phase.agreement(cells, "optimal") == 1.0 and phase.agreement(cells, "paper") == 1.0
    expected = {(1.0, 0.2): "not_represented", (1.0, 5.0): "dedicated", (0.03, 0.2): "superposition",
                (0.03, 5.0): "superposition"}
    assert dict(zip(zip(cells.density, cells.relative), cells.phase_optimal)) == expected
    assert (cells["ranked_by"] == "exact_loss").all() and (cells["n_seeds"] == 3).all()
    assert cells[["frac_not_represented", "frac_dedicated", "frac_superposition"]].sum(axis=1).eq(1).all()


def test_trained_losses_respect_the_closed_form(phase_run):
    """The stored exact expected loss is that of the saved weights; it matches the evaluated loss where
    sampling noise is small (dense cells), lies within a few standard errors of it everywhere, and never
    beats the theoretical optimum of the candidates."""
    table = analysis.load(phase_run)
    models = table.drop_duplicates("model_id").sort_values("model_id")
    weights = analysis.load_weights(phase_run)["."]
    with jax.enable_x64(True):
        exact = np.asarray(theory.expected_loss(weights["W"].astype(np.float64), weights["b"].astype(np.float64),
                                                models["density"].to_numpy(),
                                                theory.extra_importance(2, models["importance_relative"].to_numpy())))
    np.testing.assert_allclose(models["exact_loss"], exact, rtol=1e-6)
    dense = (models["density"] == 1.0).to_numpy()
    np.testing.assert_allclose(models["loss"].to_numpy()[dense], exact[dense], rtol=0.05)
    if models["loss_se"].notna().all():
        assert np.all(np.abs(models["loss"] - exact) < 5 * models["loss_se"] + 1e-9)
    cells = theory.phase_diagram(2, 1, models["density"].unique(), models["importance_relative"].unique())
    optimum = cells.set_index(["density", "relative"])["loss"]
    best_possible = optimum.loc[list(zip(models["density"], models["importance_relative"]))].to_numpy()
    assert np.all(exact >= best_possible * (1 - 1e-4))
    assert np.median(exact / best_possible) < 1.05  # and training gets close to it


def test_exact_loss_only_where_it_is_exact(cfg_factory):
    """Linear models, normal features and n > MAX_FEATURES get NaN, not a wrong number."""
    from sweep.exact import MAX_FEATURES
    from sweep.grid import build_grid
    from sweep.results import exact_losses

    for overrides in ({"model": {"kind": "linear"}}, {"data": {"distribution": "normal"}},
                      {"model": {"n_features": MAX_FEATURES + 1}}):
        grid = build_grid(cfg_factory(**overrides))
        n, m = int(grid.coords["n_features"][0]), int(grid.coords["n_hidden"][0])
        assert np.isnan(exact_losses(grid, np.ones((len(grid), m, n)), np.zeros((len(grid), n)))).all()
    grid = build_grid(cfg_factory(model={"n_features": MAX_FEATURES}))
    assert np.isfinite(exact_losses(grid, np.ones((len(grid), 2, MAX_FEATURES)), np.zeros((len(grid), MAX_FEATURES)))).all()


@pytest.mark.slow
def test_paper_scale_phase_diagram_2_1(tmp_path):
    """The paper's n=2, m=1 sweep (10 x 10 cells, 3 seeds): empirical and theoretical diagrams mostly agree
    (about 0.9 here; the misses lie on the boundaries). About a minute on 2 CPU cores."""
    density = [float(d) for d in np.round(np.geomspace(1, 0.01, 10), 5)]
    relative = [float(r) for r in np.round(np.geomspace(0.1, 10, 10), 5)]
    path = train(tmp_path / "paper", {"model": {"n_features": 2, "n_hidden": 1}, "density": density, "seed": [0, 1, 2],
                                      "importance": {"kind": "extra", "relative": relative}, "steps": 4000})
    table = analysis.load(path)
    assert phase.agreement(phase.compare(table), "optimal") >= 0.85


def test_dims_per_feature_of_a_zero_W_is_nan_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = metrics.dimensions_per_feature(np.stack([np.zeros((2, 5)), np.eye(2, 5)]))
    assert np.isnan(out[0]) and out[1] == pytest.approx(1.0)
