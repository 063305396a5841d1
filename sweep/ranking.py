"""Which seed of a cell is its best: one rule for the engine (the SAE stage's `sae.select=best`) and the analysis
(analysis/aggregate.py's seed rules).

A *cell* is one point of the grid with the seed left out: every grid axis and shape setting present in the table.
Seeds are ranked by `ranking_loss`: the exact expected loss where the run stored it (`exact_loss`, small ReLU models
with uniform features: no sampling noise), else the evaluated loss (every seed of a cell evaluated on the same batches).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sweep.grid import GROUP_COLUMNS

AXES = ("sparsity", "density", "lr", "weight_decay")  # plus importance_<param> and GROUP_COLUMNS


def cell_columns(table: pd.DataFrame, feature: bool = True) -> list[str]:
    """The columns that identify a cell (and, with feature=True, the feature) in this table."""
    importance_params = sorted(c for c in table.columns if c.startswith("importance_") and c != "importance_kind")
    keys = [c for c in (*AXES, *importance_params, *GROUP_COLUMNS) if c in table.columns]
    return keys + (["feature", "importance"] if feature else [])


def ranking_loss(table: pd.DataFrame) -> pd.Series:
    """What seeds are ranked by: `exact_loss` where it is known (finite), else `loss`."""
    if "exact_loss" not in table.columns:
        return table["loss"]
    return table["exact_loss"].where(np.isfinite(table["exact_loss"]), table["loss"])


def best_per_cell(models: pd.DataFrame) -> np.ndarray:
    """The model_ids (sorted) of each cell's best seed: the finite 'ok' model of lowest `ranking_loss`.
    `models`: one row per model (model_id, status, loss, optionally exact_loss, and the cell columns)."""
    ranked = models.assign(rank_loss=ranking_loss(models))
    ranked = ranked[(ranked["status"] == "ok") & np.isfinite(ranked["rank_loss"])]
    keys = cell_columns(ranked, feature=False)
    return np.sort(ranked.loc[ranked.groupby(keys, dropna=False)["rank_loss"].idxmin(), "model_id"].to_numpy())
