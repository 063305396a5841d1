"""sweep/ranking.py: the cell columns and the best seed of a cell, one rule for the engine and the analysis."""
import numpy as np
import pandas as pd

from analysis import aggregate
from sweep import ranking
from sweep.sae import source


def models_table() -> pd.DataFrame:
    """Two cells (density 1 and 0.1), three seeds each; in cell 1 the evaluated `loss` and the exact loss disagree
    on the best seed (seed 0 by loss, seed 2 by the exact loss); in cell 0.1 no exact loss is known (NaN)."""
    return pd.DataFrame({
        "model_id": [0, 1, 2, 3, 4, 5],
        "seed": [0, 1, 2, 0, 1, 2],
        "density": [1.0, 1.0, 1.0, 0.1, 0.1, 0.1],
        "n_features": 5, "n_hidden": 2, "importance_kind": "geometric", "importance_decay": 0.9,
        "status": ["ok", "ok", "ok", "ok", "ok", "diverged"],
        "loss": [0.10, 0.12, 0.11, 0.30, 0.20, 0.01],
        "exact_loss": [0.15, 0.14, 0.13, np.nan, np.nan, np.nan],
    })


def test_best_per_cell_ranks_by_the_exact_loss_where_known():
    # cell 1: the exact loss picks seed 2 (model 2), not the lowest `loss` (model 0); cell 0.1: `loss` picks model 4
    # (model 5 has the lowest loss but diverged)
    assert ranking.best_per_cell(models_table()).tolist() == [2, 4]


def test_the_sae_stage_and_the_analysis_share_the_rule():
    table = models_table()
    assert source.best_per_cell is ranking.best_per_cell
    assert aggregate.ranking_loss is ranking.ranking_loss and aggregate.cell_columns is ranking.cell_columns
    best = aggregate.select_seeds(table.assign(feature=0, importance=1.0), rule="best")
    assert sorted(best.loc[best["used"], "model_id"]) == ranking.best_per_cell(table).tolist()


def test_cell_columns_leave_out_the_seed():
    keys = ranking.cell_columns(models_table(), feature=False)
    assert "seed" not in keys and {"density", "n_features", "importance_decay", "importance_kind"} <= set(keys)
    assert ranking.cell_columns(models_table())[-2:] == ["feature", "importance"]
