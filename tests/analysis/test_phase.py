"""analysis/phase.py and analysis/classify.py by hand: the README's phase rule and its thresholds, ranking by the exact
loss, seeds classified before averaging, majority ties, agreement, and which runs the phase diagram applies to."""
from __future__ import annotations

import math
import re
import shlex

import numpy as np
import pandas as pd
import pytest

from analysis import classify, phase
from analysis.aggregate import select_seeds
from analysis.config import PhaseConfig
from tests.conftest import ROOT, run_cli


def test_phase():
    assert (PhaseConfig().norm, PhaseConfig().superposition) == (0.5, 0.25)  # the README's rule
    for bad in ({"norm": -0.1}, {"superposition": -0.1}, {"norm_full": -1.0}, {"superposition_full": -1.0},
                {"superposition": math.nan}, {"norm_full": 0.0}, {"superposition_full": 0.0}, {"norm_full": math.nan},
                {"superposition_full": math.nan}):
        with pytest.raises(ValueError, match=f"phase.{next(iter(bad))}"):
            PhaseConfig(**bad)
    PhaseConfig(norm=0.0, superposition=0.0, norm_full=0.5, superposition_full=0.2)  # the edges that are allowed
    norm = [0.5, 0.51, 1.0, 1.0, 1.0, 1.0]
    sup = [2.0, 0.0, 0.24, 0.26, 0.5, 1.0]  # 0.5: a triangle; 1.0: an antipodal pair
    assert list(phase.classify(norm, sup)) == ["not_represented", "dedicated", "dedicated", "superposition",
                                               "superposition", "superposition"]
    # colour: saturation by norm (full at 1), hue blue -> red by superposition (full at 0.5)
    np.testing.assert_allclose(phase.colour(1.0, 0.25), (phase.BLUE + phase.RED) / 2)
    np.testing.assert_allclose(phase.colour(2.0, 3.0), phase.RED)
    np.testing.assert_allclose(phase.colour(0.25, 0.0), 0.75 * phase.WHITE + 0.25 * phase.BLUE)
    np.testing.assert_allclose(phase.colour([0.0, -1.0], [0.5, -1.0]), [phase.WHITE, phase.WHITE])
    np.testing.assert_allclose(phase.phase_colour([["dedicated", "superposition"]]), [[phase.BLUE, phase.RED]])
    wide = PhaseConfig(norm_full=2.0, superposition_full=2.0)  # saturation at norm 2, red at superposition 2
    np.testing.assert_allclose(phase.colour(1.0, 1.0, wide), 0.5 * phase.WHITE + 0.25 * phase.BLUE + 0.25 * phase.RED)
    # majority: a tie goes to the best seed's phase if tied, else to the first tied phase in PHASES order
    fractions = pd.DataFrame([[0.2, 0.4, 0.4], [0.2, 0.4, 0.4], [0.5, 0.0, 0.5]])
    assert list(phase._majority(fractions, pd.Series(["not_represented", "superposition", "superposition"]))) == [
        "dedicated", "superposition", "superposition"]
    # at r = 1 mirror images tie: every phase a feature has; elsewhere the extra feature's own
    W = np.array([[[1.0, 0.0]], [[1.0, 0.0]], [[1.0, -1.0]]])
    ph, sets = classify.tied_phases(W, [1.0, 2.0, 1.0])
    assert sets == ["not_represented|dedicated", "not_represented", "superposition"]
    assert list(ph) == ["not_represented", "not_represented", "superposition"]
    assert classify.tied_phases(W[:1], [1 + 1e-6])[1] == ["not_represented"]  # ties at r = 1 exactly (1e-9), not near it
    assert classify.tied_phases(W[:1], [1 + 1e-12])[1] == ["not_represented|dedicated"]
    cells = pd.DataFrame({"phase": ["dedicated", "dedicated", "superposition"], "majority": ["dedicated"] * 3,
                          "phase_optimal": ["dedicated", "superposition", "superposition"],
                          "phases_optimal": ["not_represented|dedicated", "superposition", "superposition"]})
    assert phase.agreement(cells) == pytest.approx(2 / 3) and phase.agreement(cells, empirical="majority") == pytest.approx(1 / 3)
    assert math.isnan(phase.agreement(cells.iloc[:0]))
    assert phase.agreement(cells.drop(columns="phases_optimal").assign(phase_paper=cells["phase"]), "paper") == 1.0


def phase_rows(**change):
    """A 2 x 2 phase-change grid of n=2, m=1 models (2 seeds per cell), as the tidy table stores it."""
    rows = []
    for model_id, (density, relative, seed) in enumerate((d, r, s) for d in (1.0, 0.1) for r in (0.5, 2.0) for s in (0, 1)):
        for feature in range(2):
            rows.append({"run": ".", "model_id": model_id, "feature": feature, "seed": seed, "density": density,
                         "sparsity": 1 - density, "lr": 1e-3, "weight_decay": 0.01, "importance_relative": relative,
                         "model_kind": "relu", "n_features": 2, "n_hidden": 1, "batch_size": 8, "steps": 10,
                         "distribution": "uniform", "rng": "fast", "importance_kind": "extra", "schedule": "constant",
                         "loss": 0.1 + seed, "status": "ok", "norm": 1.0, "superposition": 0.0, "importance": 1.0,
                         "represented": True, "bias": 0.0, "dimensionality": 1.0, "dims_per_feature": 1.0, "n_represented": 2})
    table = pd.DataFrame(rows)
    for column, value in change.items():
        table[column] = value
    return table


def test_phase_applies_only_to_phase_change_runs():
    assert phase.applies(phase_rows())
    assert not phase.applies(phase_rows().drop(columns="importance_relative"))
    assert not phase.applies(phase_rows(importance_kind="geometric"))
    assert not phase.applies(phase_rows(n_features=5))
    assert not phase.applies(phase_rows(distribution="normal"))
    assert not phase.applies(phase_rows(model_kind="linear"))
    assert not phase.applies(phase_rows(density=0.5))
    assert not phase.applies(phase_rows(importance_relative=2.0))
    three = phase_rows(n_features=3, n_hidden=2)
    assert phase.applies(three)
    mixed = phase_rows()
    mixed.loc[mixed["feature"] == 1, "density"] = 0.3  # per-feature densities: no shared density per model
    assert not phase.applies(mixed)
    seeds = phase.seed_phases(phase_rows(), "paper")
    assert "index" not in seeds and seeds.index.tolist() == list(range(8)) and (seeds["feature"] == 1).all()
    cells = phase.cell_phases(phase_rows(), "paper")
    assert len(cells) == 4 and (cells["n_seeds"] == 2).all() and (cells["best_seed"] == 0).all()
    assert (cells["phase"] == "dedicated").all() and (cells["ranked_by"] == "loss").all()
    assert (phase.cell_phases(phase_rows(run="job/3"))["best_run"] == "job/3").all()


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


# ------------------------------------------------------------- phases of any sweep; the README's Python-API block (issue 24)
def test_the_readme_python_block_runs_on_the_run_it_names(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Python API")[1].split("\n## ")[0]
    command = re.search(r"`python -m sweep\.run ([^`]*)`", section).group(1)
    command = shlex.split(command)
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    out = run_cli([*command, "exec.plots=false", "exec.progress=false"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(block, scope)  # the user's notebook cell, as written
    phases, W = scope["phases"], scope["W"]
    assert set(phases.loc[phases.used, "phase"]) <= {"not_represented", "dedicated", "superposition"}
    assert phases.used.sum() == 3 * 5  # best seed of each of 3 cells, 5 features
    assert W.shape == (2, 5)


def test_seed_phases_on_a_sweep_without_an_extra_feature_points_to_feature_phases():
    from analysis.phase import seed_phases

    table = pd.DataFrame({"importance_kind": ["geometric"], "importance_decay": [0.9]})
    with pytest.raises(ValueError, match="feature_phases"):
        seed_phases(table, "best")
