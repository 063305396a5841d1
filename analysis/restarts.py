"""Has the best of the restarts converged? (issue 22, "restarts like the paper's").

For each cell: the best ranking loss among its first k seeds (seeds in order, k = 1..K), and the share of its seeds in
each configuration (a label an experiment reads off a model's W: e.g. "2 collapsed"). Tidy tables written beside the
run (`restarts.parquet`, `configurations.parquet`), drawn by analysis/figures/restarts.py. A best that still falls at
k = K has not converged: more restarts may change the picture the checks read.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from analysis.aggregate import per_model, ranking_loss
from analysis.run import Run

RESTARTS, CONFIGURATIONS = "restarts", "configurations"


def best_of_k(models: pd.DataFrame, cell: str = "density") -> pd.DataFrame:
    """One row per cell x k: best (lowest ranking loss among seeds 1..k in seed order), its seed, and excess, the
    relative gap to the best of all K seeds ((best_k - best_K) / best_K)."""
    rows = []
    for value, group in models.assign(rank_loss=ranking_loss(models)).groupby(cell, sort=True):
        group = group[group["status"] == "ok"].sort_values("seed")
        losses, seeds = group["rank_loss"].to_numpy(), group["seed"].to_numpy()
        running = np.minimum.accumulate(losses)
        where = np.array([int(np.argmin(losses[:k + 1])) for k in range(len(losses))])
        rows.append(pd.DataFrame({cell: value, "k": np.arange(1, len(losses) + 1), "best": running,
                                  "best_seed": seeds[where], "excess": (running - running[-1]) / abs(running[-1])}))
    return pd.concat(rows, ignore_index=True)


def shares(models: pd.DataFrame, labels: pd.Series, cell: str = "density") -> pd.DataFrame:
    """One row per cell x configuration: seeds (how many of the cell's ok seeds have it) and share (their fraction)."""
    ok = models.assign(configuration=labels.to_numpy())[models["status"] == "ok"]
    out = ok.groupby([cell, "configuration"]).size().rename("seeds").reset_index()
    out["share"] = out["seeds"] / out.groupby(cell)["seeds"].transform("sum")
    return out


def write(run: Run, label: Callable[[np.ndarray], str]) -> tuple[Path, Path]:
    """Both tables of `run` (label: a model's configuration from its W), written beside it; their paths."""
    models = per_model(run.table)
    labels = pd.Series([label(run.W(row)) for _, row in models.iterrows()], index=models.index)
    paths = run.directory / f"{RESTARTS}.parquet", run.directory / f"{CONFIGURATIONS}.parquet"
    best_of_k(models).to_parquet(paths[0])
    shares(models, labels).to_parquet(paths[1])
    return paths
