"""The paper's facts as checks: each takes a finished run (its directory and results table) and returns
PASS/FAIL `Fact`s with what was measured. `python -m analysis.paper NAME` runs them (analysis/paper.py);
the experiment modules (analysis/blog.py, correlated.py, ...) build their own from `Fact` and `best_models`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

import analysis
from analysis.aggregate import per_model, select_seeds
from analysis.plot import PHASE_CELLS


@dataclass
class Fact:
    claim: str
    passed: bool
    measured: str


def best_models(table: pd.DataFrame) -> pd.DataFrame:
    """The lowest-loss seed of every cell, one row per model."""
    marked = select_seeds(table, "best")
    return per_model(marked[marked["used"]])


def _at(models: pd.DataFrame, **where) -> pd.DataFrame:
    mask = np.ones(len(models), bool)
    for column, value in where.items():
        mask &= np.isclose(models[column].to_numpy(np.float64), value)
    return models[mask]


def antipodal_pairs(W, threshold: float = -0.9) -> int:
    """Pairs of represented features whose directions are (nearly) opposite."""
    norms = np.linalg.norm(W, axis=0)
    keep = np.flatnonzero(norms > 0.5)
    unit = W[:, keep] / norms[keep]
    cosine = unit.T @ unit
    return int((np.triu(cosine, 1) < threshold).sum())


def angular_gaps(W) -> np.ndarray:
    """For m = 2: the angles (degrees) between consecutive directions of the represented features, around the circle."""
    keep = np.linalg.norm(W, axis=0) > 0.5
    angles = np.sort(np.degrees(np.arctan2(W[1, keep], W[0, keep])))
    return np.diff(np.append(angles, angles[:1] + 360)) if len(angles) else angles


def check_intro(directory: Path, table: pd.DataFrame) -> list[Fact]:
    models = best_models(table)
    weights = analysis.load_weights(directory)
    facts = []
    for sparsity, expected in ((0.0, 2), (0.8, 4), (0.9, 5)):
        row = _at(models, sparsity=sparsity)
        n = int(row["n_represented"].iloc[0])
        facts.append(Fact(f"S={sparsity}: {expected} features represented", n == expected, f"{n}"))
    row = _at(models, sparsity=0.8).iloc[0]
    pairs = antipodal_pairs(analysis.model_weights(weights, row["run"], row["model_id"])[0])
    facts.append(Fact("S=0.8: the 4 features form 2 antipodal pairs", pairs == 2, f"{pairs} pairs"))
    row = _at(models, sparsity=0.9).iloc[0]
    gaps = angular_gaps(analysis.model_weights(weights, row["run"], row["model_id"])[0])
    facts.append(Fact("S=0.9: a pentagon (5 directions, every gap between neighbours 72 +- 12 degrees)",
                      len(gaps) == 5 and bool(np.all(np.abs(gaps - 72) <= 12)),
                      "gaps " + ", ".join(f"{g:.0f}" for g in gaps)))
    return facts


def check_basic(directory: Path, table: pd.DataFrame) -> list[Fact]:
    models = best_models(table)
    m = int(table["n_hidden"].iloc[0])
    represented = table[table["represented"]].groupby(["run", "model_id"])["feature"].apply(frozenset)
    linear = models[models["model_kind"] == "linear"]
    top_m = frozenset(range(m))
    ok = [represented.get((r, i), frozenset()) == top_m for r, i in zip(linear["run"], linear["model_id"])]
    facts = [Fact(f"linear model: exactly the top {m} features at every density", all(ok),
                  f"{sum(ok)}/{len(ok)} models")]
    relu = models[models["model_kind"] == "relu"].sort_values("density", ascending=False)
    dense = int(relu["n_represented"].iloc[0])
    facts.append(Fact(f"ReLU, density 1: {m} features (no superposition)", dense == m, f"{dense}"))
    sparse = relu[relu["density"] <= 0.1]["n_represented"].to_numpy()
    facts.append(Fact(f"ReLU, density <= 0.1: more than {m} features (superposition)", bool((sparse > m).all()),
                      ",".join(map(str, sparse))))
    return facts


FULL_SEEDS, FULL_STEPS = 10, 10_000  # the presets' seeds per cell and steps: the agreement targets apply there


def check_phase(target: float, reduced: float = 0.85) -> Callable[[Path, pd.DataFrame], list[Fact]]:
    """Best seed (ranked by exact loss) against the optimal theory, plus two facts that hold by construction
    unless something is broken: no trained model beats the optimum, and the optimum never loses to the paper.

    `target` is the bar for a run with the preset's seeds and steps; fewer seeds or steps (the CI-sized
    runs) leave more cells in local minima, and are held to `reduced`.
    """

    def check(directory: Path, table: pd.DataFrame) -> list[Fact]:
        from analysis.phase import agreement

        n, m = int(table["n_features"].iloc[0]), int(table["n_hidden"].iloc[0])
        full = table["seed"].nunique() >= FULL_SEEDS and int(table["steps"].min()) >= FULL_STEPS
        minimum = target if full else reduced
        cells = pd.read_parquet(directory / f"{PHASE_CELLS}.parquet")  # written by plot_run
        best, majority = agreement(cells, "optimal"), agreement(cells, "optimal", "majority")
        paper = agreement(cells, "paper")
        missed = cells[cells["phase"] != cells["phase_optimal"]]
        below = cells["best_gap"] < -1e-4
        measured = (f"{best:.1%} of {len(cells)} cells (majority of seeds: {majority:.1%}; "
                    f"best seed vs the paper's theory: {paper:.1%})")
        if len(missed):
            measured += (f"; in the {len(missed)} missed cells {missed['frac_at_optimum'].mean():.0%} of seeds "
                         f"reach the optimum on average")
        return [
            Fact(f"n={n}, m={m}: the best seed's phase agrees with the optimal theory (>= {minimum:.0%} of cells"
                 f"{'' if full else f'; {target:.0%} with {FULL_SEEDS} seeds and {FULL_STEPS:,} steps'})",
                 best >= minimum, measured),
            Fact("no best seed's exact loss is below the optimal theory's (1e-4)", not below.any(),
                 f"{int(below.sum())} cells below; best seed within 1% of the optimum in "
                 f"{(cells['best_gap'] <= 0.01).mean():.1%} of cells, median gap {cells['best_gap'].median():.2%}"),
            Fact("the optimal theory's loss is never above the paper's",
                 bool((cells["loss_optimal"] <= cells["loss_paper"] * (1 + 1e-6)).all()),
                 f"largest ratio optimal/paper {float((cells['loss_optimal'] / cells['loss_paper']).max()):.4f}"),
        ]

    return check


def check_shrinking_dims(directory: Path, table: pd.DataFrame) -> list[Fact]:
    """The paper's m / ||W||_F^2 falls with sparsity; beside it, what it is made of at the sparsest density:
    m / ||W||_F^2 = (m/n) / mean ||W_i||^2 goes below m/n when norms grow above 1, while the scale-free
    mean D_i stays near m/n (sum D_i <= m), so a value under m/n is not more features per dimension."""
    marked = select_seeds(table, "best")
    best = marked[marked["used"]]  # one row per feature of each cell's best seed
    models = per_model(best).sort_values("density", ascending=False)
    dims = models["dims_per_feature"].to_numpy()
    sparsest = best[np.isclose(best["density"], models["density"].iloc[-1])]
    m, n = int(table["n_hidden"].iloc[0]), int(table["n_features"].iloc[0])
    return [
        Fact("dense: about one dimension per feature (m features, orthogonal)", dims[0] > 0.9, f"{dims[0]:.3f}"),
        Fact("sparsest: well under half a dimension per feature (superposition)", dims[-1] < 0.5 * dims[0],
             f"{dims[-1]:.3f} (m/n = {m / n:.3f}; mean ||W_i||^2 {(sparsest['norm'] ** 2).mean():.2f}; "
             f"mean D_i {sparsest['dimensionality'].mean():.3f})"),
    ]


def check_more_features_when_sparse(directory: Path, table: pd.DataFrame) -> list[Fact]:
    models = best_models(table).sort_values("density", ascending=False)
    m = int(table["n_hidden"].iloc[0])
    dims, counts = models["dims_per_feature"].to_numpy(), models["n_represented"].to_numpy()
    return [
        Fact("dense: about one dimension per feature (no superposition)", dims[0] > 0.9, f"{dims[0]:.3f}"),
        Fact(f"sparsest: more than m={m} features represented", counts[-1] > m, f"{counts[-1]}"),
    ]
