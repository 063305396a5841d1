"""The whole program on the paper's phase change: one small trained grid (n=2, m=1, one cell in each region, 3 seeds)
checked against the closed-form theory (analysis/phase.py's compare and agreement), and loaded as a nested multirun."""
from __future__ import annotations

import jax
import numpy as np
import pytest

import analysis
from analysis import phase, theory
from analysis.config import TheoryConfig
from tests.conftest import train_run


@pytest.fixture(scope="module")
def phase_run(tmp_path_factory):
    """n=2, m=1 with one cell in each region of the paper's phase diagram, 3 seeds."""
    return train_run(tmp_path_factory.mktemp("runs") / "phase", {
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


@pytest.mark.slow
def test_paper_scale_phase_diagram_2_1(tmp_path):
    """The paper's n=2, m=1 sweep (10 x 10 cells, 3 seeds): empirical and theoretical diagrams mostly agree
    (about 0.9 here; the misses lie on the boundaries). About a minute on 2 CPU cores."""
    density = [float(d) for d in np.round(np.geomspace(1, 0.01, 10), 5)]
    relative = [float(r) for r in np.round(np.geomspace(0.1, 10, 10), 5)]
    path = train_run(tmp_path / "paper", {"model": {"n_features": 2, "n_hidden": 1}, "density": density, "seed": [0, 1, 2],
                                      "importance": {"kind": "extra", "relative": relative}, "steps": 4000})
    table = analysis.load(path)
    assert phase.agreement(phase.compare(table), "optimal") >= 0.85
