"""The paper's first figure: n=5 features, m=2 hidden dimensions, importance 0.9^i, at S = 0, 0.8, 0.9
(`python -m analysis.paper intro`; docs/experiments/intro.md). Checks read the lowest-loss seed of each sparsity."""
from __future__ import annotations

import numpy as np

from analysis.experiments.claims import FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.geometry import angular_gaps, antipodal_pairs
from analysis.run import Run

PRESETS = (Preset("intro", ("geometry", "weights")),)
SOURCE = (f"{PAPER}, introduction, section 'As Sparsity Increases, Models Use \"Superposition\" To Represent More "
          "Features Than Dimensions' (the title of its first figure, panels 0%, 80% and 90% Sparsity)")
SAYS = {0.0: "\"The two most important features are given dedicated orthogonal dimensions, while other features are not "
             "embedded.\" (0% Sparsity)",
        0.8: "\"The four most important features are represented as antipodal pairs. The least important features are not "
             "embedded.\" (80% Sparsity)",
        0.9: "\"All five features are embedded as a pentagon\" (90% Sparsity)"}
GAP_DEG = 12  # a pentagon: every gap between neighbouring directions 72 +- this (a square and one has gaps 45 and 90)


def _at(models, **where):
    mask = np.ones(len(models), bool)
    for column, value in where.items():
        mask &= np.isclose(models[column].to_numpy(np.float64), value)
    return models[mask]


def represented(run: Run, sparsity: float, expected: int) -> Verdict:
    """The paper names which features: the `expected` most important ones, 0..expected-1, and no other."""
    row = _at(run.best, sparsity=sparsity).iloc[0]
    kept = np.flatnonzero(run.table[(run.table["run"] == row["run"]) & (run.table["model_id"] == row["model_id"])]
                          .sort_values("feature")["represented"].to_numpy())
    return Verdict(kept.tolist() == list(range(expected)), f"features {', '.join(map(str, kept)) or 'none'}")


def antipodal(run: Run) -> Verdict:
    pairs = antipodal_pairs(run.W(_at(run.best, sparsity=0.8).iloc[0]))
    return Verdict(pairs == 2, f"{pairs} pairs")


def pentagon(run: Run) -> Verdict:
    gaps = angular_gaps(run.W(_at(run.best, sparsity=0.9).iloc[0]))
    return Verdict(len(gaps) == 5 and bool(np.all(np.abs(gaps - 72) <= GAP_DEG)), "gaps " + ", ".join(f"{g:.0f}" for g in gaps))


COUNTED = "a feature is represented when ||W_i|| > 0.5 (sweep/metrics.py: REPRESENTED_NORM): trained norms are near 0 or 1"
CLAIMS = (
    *(Claim("S={sparsity}: the {expected} most important features represented, the others not", SAYS[s], SOURCE,
            COUNTED, represented, {"sparsity": s, "expected": k}) for s, k in ((0.0, 2), (0.8, 4), (0.9, 5))),
    Claim("S=0.8: the 4 features form 2 antipodal pairs", SAYS[0.8], SOURCE,
          "a pair is antipodal when cos(W_i, W_j) < -0.9 (both norms > 0.5)", antipodal),
    Claim("S=0.9: a pentagon (5 directions, every gap between neighbours 72 +- 12 degrees)", SAYS[0.9], SOURCE,
          f"5 directions with every gap 72 +- {GAP_DEG} degrees: no other 5-direction shape comes within it", pentagon),
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS):
    return []  # the generic figures (geometry, weights) show it
