"""The SAE stage's tables (sweep/sae/stage.py), read from a run or experiment dir, and the readings the SAE
experiments and figures share: the best coefficient per cell, recovery against the toy model's sparsity."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SCORES, FEATURES, WEIGHTS, SUMMARY = "scores.parquet", "features.parquet", "saes.npz", "sae.json"


def stage_dirs(directory) -> list[Path]:
    """Every SAE stage output (a dir holding sae.json) at or under `directory`, sorted."""
    found = sorted(p.parent for p in Path(directory).rglob(SUMMARY))
    if not found:
        raise FileNotFoundError(f"no SAE results ({SUMMARY}) at or under {directory}: run python -m sweep.sae first")
    return found


def _merged(directory, name: str) -> pd.DataFrame:
    tables = []
    for out in stage_dirs(directory):
        table = pd.read_parquet(out / name)
        table.insert(0, "stage", out.relative_to(directory).as_posix())
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def scores(directory) -> pd.DataFrame:
    """One row per SAE of every stage under `directory` (a `stage` column names its dir)."""
    return _merged(directory, SCORES)


def features(directory) -> pd.DataFrame:
    """One row per SAE x true feature of every stage under `directory`."""
    return _merged(directory, FEATURES)


def weights(stage_dir) -> dict:
    """{"features": (S, d, G), "represented": (S, G), "W_dec_<arch>_<L>": (SAEs, d, L), ...} of one stage
    (rows: that arch and size's rows of scores.parquet, in order)."""
    with np.load(Path(stage_dir) / WEIGHTS, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def seed_mean(table: pd.DataFrame, by: list[str], column: str) -> pd.DataFrame:
    """`column` averaged over SAE seeds for each combination of `by` (columns: by, column, its min and max)."""
    grouped = table.groupby(by, dropna=False)[column]
    return pd.DataFrame({column: grouped.mean(), f"{column}_min": grouped.min(), f"{column}_max": grouped.max()}).reset_index()


def best_coefficient(table: pd.DataFrame, by: list[str], column: str = "mmcs") -> pd.DataFrame:
    """For each combination of `by`: the coefficient whose seed-mean `column` is highest, and that row."""
    means = seed_mean(table, [*by, "coeff"], column)
    return means.loc[means.groupby(by, dropna=False)[column].idxmax()].reset_index(drop=True)
