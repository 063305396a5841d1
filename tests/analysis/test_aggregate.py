"""analysis/aggregate.py by hand: the seed rules (mean, best, median) and their edge cases, cells never mixing grid
points, the ranking loss."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.aggregate import aggregate, cell_columns, per_model, ranking_loss, select_seeds, ties
from tests.analysis.test_phase import phase_rows


def test_aggregate():
    table = phase_rows()
    table["exact_loss"] = np.where(table["seed"] == 0, 0.9, 0.2)  # exact losses rank seed 1 first where finite ...
    table.loc[table["density"] == 0.1, "exact_loss"] = np.nan  # ... else the evaluated loss (seed 0 first)
    np.testing.assert_allclose(ranking_loss(table), np.where(table["density"] == 1.0, table["exact_loss"], table["loss"]))
    best = select_seeds(table, "best")
    used = best[best["used"]].drop_duplicates("model_id")
    assert sorted(zip(used["density"], used["seed"])) == [(0.1, 0), (0.1, 0), (1.0, 1), (1.0, 1)]
    paper = aggregate(table, "paper")  # two seeds: drop the worse one
    assert (paper["n_seeds"] == 1).all() and (paper["n_trained"] == 2).all()
    mean = aggregate(table.assign(norm=table["seed"] * 2.0 + 1.0), "mean")
    assert (mean["norm"] == 2.0).all() and (mean["seeds"] == "0,1").all() and (mean["rule"] == "mean").all()
    assert len(per_model(table)) == 8 and "norm" not in per_model(table) and "loss" in per_model(table)
    assert set(aggregate(table, "best")["exact_loss"].dropna()) == {0.2}
    # a merged multirun: columns of other groups are NaN here (importance_decay), and still identify cells
    merged = table.assign(importance_decay=np.nan, interference=table["seed"] * 1.0 - 0.5)
    best = select_seeds(merged, "best")
    assert best.drop_duplicates("model_id")["used"].sum() == 4
    paper = aggregate(merged, "paper")
    assert len(paper) == 8 and (paper["n_seeds"] == 1).all() and (paper["n_trained"] == 2).all()
    np.testing.assert_allclose(aggregate(merged, "mean")["interference"], 0.0)  # (-0.5 + 0.5) / 2
    assert "interference" not in per_model(merged)
    assert "index" not in per_model(merged) and per_model(merged).index.tolist() == list(range(8))


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


# ------------------------------------------------------------ ties(): seeds the evaluation cannot tell apart are reported
def models(losses, ses, exact=None, density=0.1) -> pd.DataFrame:
    """One feature per model, one cell (density); seeds 0.. in order."""
    exact = [np.nan] * len(losses) if exact is None else exact
    return pd.DataFrame({"run": "r", "model_id": range(len(losses)), "seed": range(len(losses)), "feature": 0,
                         "importance": 1.0, "density": density, "sparsity": 1 - density, "status": "ok",
                         "loss": losses, "loss_se": ses, "exact_loss": exact})


def test_seeds_within_two_combined_standard_errors_of_the_best_are_a_tie():
    # best 1.00 (se 0.01); 1.02: gap 0.02 < 2 sqrt(2) 0.01 = 0.0283, tied; 1.03: gap 0.03 > 0.0283, not
    t = ties(models([1.03, 1.00, 1.02, 1.5], [0.01] * 4))
    assert t["seed"].tolist() == [1, 2] and t["tie_size"].tolist() == [2, 2]
    # a precise evaluation tells the same seeds apart: a clear best
    t = ties(models([1.03, 1.00, 1.02, 1.5], [0.001] * 4))
    assert t["seed"].tolist() == [1] and t["tie_size"].tolist() == [1]


def test_the_exact_loss_has_no_noise_and_cells_tie_apart():
    # the evaluated losses say tie, the exact losses (the ranking where they exist) do not
    t = ties(models([1.0, 1.0001], [0.01, 0.01], exact=[0.9, 0.9001]))
    assert t["seed"].tolist() == [0]
    both = pd.concat([models([1.0, 1.01], [0.01] * 2, density=0.1),
                      models([2.0, 2.5], [0.01] * 2, density=0.2).assign(model_id=[2, 3])])
    t = ties(both)
    assert t[["density", "seed"]].values.tolist() == [[0.2, 0], [0.1, 0], [0.1, 1]]  # by cell (sparsity first)
    assert t["tie_size"].tolist() == [1, 2, 2]
