"""aggregate() against a reference loop on a hand-made table: every model and feature metric is averaged within
its cell, cells that differ in any grid axis (sparsity, density, lr, weight decay) stay apart, and models are
told apart by (run, model_id) when two runs of a multirun reuse the same model ids."""
import itertools

import pandas as pd
import pytest

from analysis.aggregate import aggregate, per_model

# every per-model and per-feature metric of results.parquet (README), written out here, not read from the module
METRICS = ("loss", "exact_loss", "dims_per_feature", "n_represented", "norm", "bias", "superposition",
           "interference", "dimensionality", "represented")

CELLS = [(0.5, 1e-3, 0.0), (0.9, 1e-3, 0.0), (0.5, 1e-2, 0.0), (0.5, 1e-3, 0.1)]  # (sparsity, lr, weight decay)


def table() -> pd.DataFrame:
    """4 cells x 2 seeds x 2 features; seed 0's models in run "a", seed 1's in run "b", both numbered 0..3."""
    rows = []
    for (c, (sparsity, lr, wd)), seed, feature in itertools.product(enumerate(CELLS), (0, 1), (0, 1)):
        base = 100 * c + 10 * seed + feature  # distinct values, so a merged cell or a lost model changes a mean
        rows.append({"run": "ab"[seed], "model_id": c, "seed": seed, "feature": feature, "importance": 0.7**feature,
                     "sparsity": sparsity, "density": 1 - sparsity, "lr": lr, "weight_decay": wd, "status": "ok",
                     "loss": 1.0 + c + 0.5 * seed, "exact_loss": 0.9 + c + 0.5 * seed, "dims_per_feature": 0.1 * c + seed,
                     "n_represented": c + seed, "norm": base + 0.1, "bias": -base, "superposition": base + 0.2,
                     "interference": base + 0.3, "dimensionality": base + 0.4, "represented": bool((c + seed) % 2)})
    return pd.DataFrame(rows)


def test_every_metric_is_averaged_within_its_cell_and_cells_stay_apart():
    t = table()
    out = aggregate(t, "mean")
    assert len(out) == len(CELLS) * 2  # cells x features
    for (c, (sparsity, lr, wd)), feature in itertools.product(enumerate(CELLS), (0, 1)):
        row = out[(out["sparsity"] == sparsity) & (out["lr"] == lr) & (out["weight_decay"] == wd)
                  & (out["feature"] == feature)]
        assert len(row) == 1, (c, feature)
        row = row.iloc[0]
        assert row["density"] == pytest.approx(1 - sparsity) and row["n_seeds"] == 2 and row["n_trained"] == 2
        assert row["seeds"] == "0,1" and row["importance"] == pytest.approx(0.7**feature)
        expected = {}  # the reference: a plain loop over the two seeds' rows
        for name in METRICS:
            values = [float(r[name]) for _, r in t.iterrows() if r["model_id"] == c and r["feature"] == feature]
            expected[name] = sum(values) / len(values)
        for name, value in expected.items():
            assert row[name] == pytest.approx(value, rel=1e-12), name


def test_models_of_different_runs_with_the_same_id_are_different_models():
    t = table()
    assert len(per_model(t)) == 8  # 4 cells x 2 seeds, though model ids are 0..3 in each run
    best = aggregate(t, "best")  # seed 0 has the lower loss in every cell
    assert (best["n_seeds"] == 1).all() and (best["seeds"] == "0").all() and (best["n_trained"] == 2).all()


def test_diverged_models_never_count_and_ties_keep_one_seed():
    t = table()
    cell0, cell1 = t["model_id"] == 0, t["model_id"] == 1
    t.loc[cell0 & (t["seed"] == 0), "status"] = "diverged"  # the lowest loss of cell 0, but diverged
    t.loc[cell1, ["loss", "exact_loss"]] = 2.0  # cell 1: both seeds tie
    best = aggregate(t, "best")
    for c, seeds in ((0, {"1"}), (1, {"0", "1"})):  # a tie keeps one seed, either
        rows = best[(best["sparsity"] == CELLS[c][0]) & (best["lr"] == CELLS[c][1]) & (best["weight_decay"] == CELLS[c][2])]
        assert len(rows) == 2 and (rows["n_seeds"] == 1).all() and rows["seeds"].nunique() == 1, (c, rows)
        assert rows["seeds"].iloc[0] in seeds
        assert (rows["n_trained"] == 2).all()
