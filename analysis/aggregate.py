"""Seed aggregation: which seeds of a cell count, and their mean.

A *cell* is one point of the grid with the seed left out (every grid axis and shape setting,
plus the feature). Seeds are ranked by `ranking_loss`: the exact expected loss where the run stored it
(`exact_loss`, small ReLU models with uniform features: no sampling noise), else the evaluated loss
(every seed of a cell evaluated on the same batches). Rules:

- ``paper``: drop the highest-loss seed and average the rest (with one seed: that seed);
- ``best``: keep only the lowest-loss seed (best-of-k);
- ``mean``: average every seed.

Diverged models (status != 'ok') never count. The per-seed table is never modified:
`select_seeds` returns a copy with a boolean `used` column, `aggregate` one row per cell x feature.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.config import SEED_RULES
from sweep.ranking import cell_columns, ranking_loss  # the one rule, shared with the engine

MODEL_METRICS = ("loss", "exact_loss", "dims_per_feature", "n_represented")
FEATURE_METRICS = ("norm", "bias", "superposition", "interference", "dimensionality", "represented")


def ties(table: pd.DataFrame, z: float = 2.0) -> pd.DataFrame:
    """One row per model that the evaluation cannot tell from its cell's lowest-loss seed: |L - L_best| < z * sqrt(se^2 +
    se_best^2), with se = `loss_se` where the ranking is the evaluated loss and 0 where it is `exact_loss` (no noise).
    Sorted by cell and loss; `tie_size` says how many models share the top of their cell (1: a clear best).

    z = 2 over the combined standard error is conservative: the seeds of a cell are evaluated on the same batches, so
    their difference is less noisy than either loss; a tie here means "not resolved", never "equal"."""
    models = per_model(table).assign(rank_loss=ranking_loss(per_model(table)))
    models = models[(models["status"] == "ok") & np.isfinite(models["rank_loss"])].copy()
    exact = "exact_loss" in models.columns and models["exact_loss"].notna()
    se = models["loss_se"].fillna(0.0) if "loss_se" in models.columns else pd.Series(0.0, models.index)
    models["rank_se"] = np.where(exact, 0.0, se) if "exact_loss" in models.columns else se
    keys = cell_columns(table, feature=False)
    best = models.loc[models.groupby(keys, dropna=False)["rank_loss"].idxmin(), keys + ["rank_loss", "rank_se"]]
    models = models.merge(best, on=keys, suffixes=("", "_best"))
    gap = models["rank_loss"] - models["rank_loss_best"]
    tied = models[gap <= z * np.sqrt(models["rank_se"] ** 2 + models["rank_se_best"] ** 2)].copy()
    tied["tie_size"] = tied.groupby(keys, dropna=False)["rank_loss"].transform("size")
    return tied.drop(columns=["rank_loss_best", "rank_se_best"]).sort_values([*keys, "rank_loss"]).reset_index(drop=True)


def select_seeds(table: pd.DataFrame, rule: str = "paper") -> pd.DataFrame:
    """The per-seed table with a `used` column: does this model count for its cell under `rule`."""
    if rule not in SEED_RULES:
        raise ValueError(f"rule={rule!r} is not one of {', '.join(SEED_RULES)}")
    model_keys = [c for c in ("run", "model_id") if c in table.columns]
    models = table.drop_duplicates(model_keys)
    models = models[model_keys + cell_columns(table, feature=False) + ["status"]].assign(rank_loss=ranking_loss(models))
    models = models[(models["status"] == "ok") & np.isfinite(models["rank_loss"])].copy()
    keys = cell_columns(table, feature=False)
    rank = models.groupby(keys, dropna=False)["rank_loss"].rank(method="first")  # 1 = lowest loss
    size = models.groupby(keys, dropna=False)["rank_loss"].transform("size")
    if rule == "best":
        models["used"] = rank == 1
    elif rule == "paper":
        models["used"] = (rank < size) | (size == 1)
    else:
        models["used"] = True
    out = table.merge(models[model_keys + ["used"]], on=model_keys, how="left")
    out["used"] = out["used"].fillna(False).astype(bool)
    return out


def aggregate(table: pd.DataFrame, rule: str = "paper", marked: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cell x feature: every metric averaged over the seeds `rule` keeps.

    Adds n_seeds (seeds used), n_trained (seeds in the cell, diverged included), seeds (the
    used seeds, e.g. "0,2") and rule. `represented` becomes the fraction of used seeds.
    `marked`: `select_seeds(table, rule)` when the caller has it already (the seeds are then not picked again).
    """
    marked = select_seeds(table, rule) if marked is None else marked
    keys = cell_columns(table)
    metrics = [c for c in (*MODEL_METRICS, *FEATURE_METRICS) if c in table.columns]
    used = marked[marked["used"]].copy()
    used["represented"] = used["represented"].astype(float)
    grouped = used.groupby(keys, dropna=False, sort=True)
    out = grouped[metrics].mean()
    out["n_seeds"] = grouped.size()
    out["seeds"] = grouped["seed"].agg(lambda s: ",".join(str(v) for v in sorted(s)))
    out = out.reset_index()
    trained = marked.groupby(keys, dropna=False)["seed"].size().rename("n_trained").reset_index()
    out = out.merge(trained, on=keys, how="left")
    out["rule"] = rule
    return out


def per_model(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model: the feature-level columns dropped."""
    model_keys = [c for c in ("run", "model_id") if c in table.columns]
    drop = [c for c in ("feature", "importance", *FEATURE_METRICS) if c in table.columns]
    return table.drop_duplicates(model_keys).drop(columns=drop).reset_index(drop=True)
