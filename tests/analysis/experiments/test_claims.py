"""Every paper check (analysis/experiments/) and the blog's seed vote (analysis/experiments/blog.py) PASS on a run whose weights
hold the paper's result, written by hand, and FAIL when that run is doctored: each doctoring breaks one fact and
exactly that fact's check fails. No training: the runs are written with sweep.results."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.experiments import basic, blog, geometry, intro, notebook, phase_change
from analysis.phase import PHASE_CELLS
from analysis.run import Run
from sweep.grid import build_grid
from sweep.results import feature_table, history_table, write_run
from tests.conftest import make_config


def at(*degrees, norms=None):
    """W (2, n): feature i at angle degrees[i] with norm norms[i] (default 1)."""
    theta = np.radians(degrees)
    return np.stack([np.cos(theta), np.sin(theta)]) * (np.ones(len(degrees)) if norms is None else np.asarray(norms, float))


def write(directory, cfg, weights, biases=None):
    """A complete run of `cfg`'s grid with the given W per model (and b, default 0)."""
    grid = build_grid(cfg)
    W = np.stack(weights)
    b = np.zeros((len(W), W.shape[2])) if biases is None else np.stack(biases)
    loss = np.linspace(0.01, 0.02, len(W))
    params = {"W": W, "b": b}
    write_run(directory, feature_table(grid, params, loss), params, history_table(np.array([0]), loss[None]), "", {})
    return directory


def verdicts(check, directory):
    return [f.passed for f in check(Run(directory))]


# ----------------------------------------------------------------------------- intro: 2, 4 (2 pairs), 5 (pentagon)

INTRO = {0.0: at(0, 90, 0, 0, 0, norms=[1, 1, 0, 0, 0]), 0.8: at(0, 180, 90, 270, 0, norms=[1, 1, 1, 1, 0]),
         0.9: at(10, 82, 154, 226, 298)}


@pytest.mark.parametrize("doctored, fails", [
    (None, []),
    ({0.0: at(0, 90, 45, 0, 0, norms=[1, 1, 0.8, 0, 0])}, [0]),  # 3 features when dense
    ({0.0: at(0, 0, 90, 0, 0, norms=[1, 0, 1, 0, 0])}, [0]),  # 2 features when dense, but not the 2 most important
    ({0.8: at(0, 90, 135, 270, 0, norms=[1, 1, 1, 1, 0])}, [3]),  # 4 features, but one antipodal pair
    ({0.8: at(0, 180, 90, 270, 0, norms=[1, 1, 1, 0.3, 0])}, [1, 3]),  # 3 features
    ({0.9: at(0, 45, 90, 180, 270)}, [4]),  # 5 features, not a pentagon
    ({0.9: at(0, 72, 144, 216, 288, norms=[1, 1, 1, 1, 0.3])}, [2, 4]),  # 4 features
])
def test_intro_check(tmp_path, doctored, fails):
    weights = {**INTRO, **(doctored or {})}
    cfg = make_config(sparsity=[0.0, 0.8, 0.9], seed=0)
    directory = write(tmp_path, cfg, [weights[s] for s in (0.0, 0.8, 0.9)])
    passed = verdicts(intro.check, directory)
    assert len(passed) == 5 and [k for k, p in enumerate(passed) if not p] == fails


# ----------------------------------------------------------------------------- basic: linear top m, ReLU superposes


def test_basic_check(tmp_path):
    top2 = at(0, 90, 0, 0, norms=[1, 1, 0, 0])
    square = at(0, 180, 90, 270)

    def run(name, linear_sparse=top2, relu_dense=top2, relu_sparse=square):
        root = tmp_path / name
        write(root / "linear", make_config(model={"kind": "linear", "n_features": 4}, density=[1.0, 0.1]), [top2, linear_sparse])
        write(root / "relu", make_config(model={"n_features": 4}, density=[1.0, 0.1]), [relu_dense, relu_sparse])
        return verdicts(basic.check, root)

    assert run("right") == [True, True, True]
    assert run("linear keeps feature 2", linear_sparse=at(0, 0, 90, 0, norms=[1, 0, 1, 0])) == [False, True, True]
    assert run("relu dense superposes", relu_dense=at(0, 180, 90, 0, norms=[1, 1, 1, 0])) == [True, False, True]
    assert run("relu dense keeps feature 2", relu_dense=at(0, 0, 90, 0, norms=[1, 0, 1, 0])) == [True, False, True]
    assert run("relu sparse does not", relu_sparse=top2) == [True, True, False]


# ----------------------------------------------------------------------------- phase: agreement, optimum, paper


def phase_run(directory, seeds=3, steps=100, **doctor):
    cells = pd.DataFrame({"density": [1.0, 0.5, 0.1, 0.01], "relative": [1.0] * 4,
                          "phase": ["dedicated", "dedicated", "superposition", "superposition"],
                          "majority": ["dedicated"] * 4, "phase_paper": ["dedicated"] * 4,
                          "phase_optimal": ["dedicated", "dedicated", "superposition", "superposition"],
                          "phases_paper": ["dedicated"] * 4,
                          "phases_optimal": ["dedicated", "dedicated", "superposition", "superposition"],
                          "best_gap": [0.0, 0.001, 0.02, 0.0], "frac_at_optimum": [1.0] * 4,
                          "loss_optimal": [0.1, 0.09, 0.05, 0.01], "loss_paper": [0.1, 0.1, 0.06, 0.01]})
    for column, (row, value) in doctor.items():
        cells.loc[row, column] = value
    directory.mkdir(parents=True, exist_ok=True)
    cells.to_parquet(directory / f"{PHASE_CELLS}.parquet")
    table = pd.DataFrame({"n_features": [2] * seeds, "n_hidden": [1] * seeds, "seed": range(seeds), "steps": [steps] * seeds})
    run = Run(directory, "phase_n2")
    run.table = table  # the check reads the seeds and steps from the table, the cells from phase_cells.parquet
    return phase_change.check(run)


def test_phase_check(tmp_path):
    assert [f.passed for f in phase_run(tmp_path / "a")] == [True, True, True]
    # one of 4 cells off: 75% < the reduced bar 85%
    assert [f.passed for f in phase_run(tmp_path / "b", phase=(0, "superposition"))] == [False, True, True]
    # a best seed below the optimum: impossible unless something is broken
    assert [f.passed for f in phase_run(tmp_path / "c", best_gap=(2, -0.01))] == [True, False, True]
    assert [f.passed for f in phase_run(tmp_path / "d", loss_optimal=(1, 0.11))] == [True, True, False]
    # the full-size bar (98%) applies with the preset's 10 seeds and 10,000 steps: 3 of 4 cells is not enough there
    full = phase_run(tmp_path / "e", seeds=10, steps=10_000, phase=(0, "superposition"))
    assert not full[0].passed and "98%" in full[0].claim
    five = phase_run(tmp_path / "f", seeds=10, steps=10_000)
    assert five[0].passed and "100.0% of 4 cells" in five[0].measured


# ----------------------------------------------------------------------------- dims per feature, features when sparse


HEXAGON = at(0, 60, 120, 180, 240, 300)


@pytest.mark.parametrize("dense, sparse, shrinking, more", [
    (at(0, 90, 0, 0, 0, 0, norms=[1, 1, 0, 0, 0, 0]), HEXAGON, [True, True], [True, True]),  # 1 -> 1/3 dims, 6 features
    (at(0, 90, 0, 0, 0, 0, norms=[1.2, 1.2, 0, 0, 0, 0]), HEXAGON, [False, True], [False, True]),  # dense 0.69
    (at(0, 90, 0, 0, 0, 0, norms=[1, 1, 0, 0, 0, 0]), at(0, 120, 240, 0, 0, 0, norms=[1, 1, 1, 0, 0, 0]),
     [True, False], [True, True]),  # sparse 2/3 dims per feature: not under half
    (at(0, 90, 0, 0, 0, 0, norms=[1, 1, 0, 0, 0, 0]), at(0, 90, 0, 0, 0, 0, norms=[0.5, 0.5, 0, 0, 0, 0]),
     [True, False], [True, False]),  # sparse: 2 short features, none represented
])
def test_dims_and_feature_count_checks(tmp_path, dense, sparse, shrinking, more):
    directory = write(tmp_path, make_config(model={"n_features": 6}, density=[1.0, 0.1, 0.01]), [dense, dense, sparse])
    assert verdicts(geometry.check, directory)[:2] == shrinking  # dense, sparsest (the rest: test_geometry.py)
    assert verdicts(notebook.check, directory) == more


# ----------------------------------------------------------------------------- the blog's vote over seeds


def test_blog_claims_pass_on_a_majority_of_seeds_and_fail_without_one(tmp_path):
    pca = at(0, 90, 0, 0, 0, norms=[1, 1, 0, 0, 0])
    cfg = make_config(model={"kind": "linear"}, sparsity=[0.0], seed=[0, 1, 2], data={"distribution": "normal"})

    def facts(name, biases):
        directory = write(tmp_path / name, cfg, [pca] * 3, [np.full(5, b) for b in biases])
        return {f.claim.split(": ", 1)[1]: f for f in blog.check(Run(directory, "blog"))}

    two = facts("two", [0.0, 0.0, 0.3])
    assert len(two) == 5 and all(f.passed for f in two.values())  # linear S=0: the five claims
    assert two["bias near 0 (|b_i| < 0.1)"].measured.startswith("2/3 seeds")
    one = facts("one", [0.0, 0.3, 0.3])
    assert not one["bias near 0 (|b_i| < 0.1)"].passed and one["bias near 0 (|b_i| < 0.1)"].measured.startswith("1/3 seeds")
    assert sum(f.passed for f in one.values()) == 4
