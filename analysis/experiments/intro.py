"""The paper's first figure: n=5 features, m=2 hidden dimensions, importance 0.9^i, at S = 0, 0.8, 0.9
(`python -m analysis.paper intro`; docs/experiments/intro.md). Checks read the lowest-loss seed of each sparsity."""
from __future__ import annotations

import numpy as np

from analysis.experiments.claims import FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.geometry import angular_gaps, antipodal_pairs
from analysis.run import Run

PRESETS = (Preset("intro", ("geometry", "weights")),)
SOURCE = f"{PAPER}, Introduction (its first figure)"
GAP_DEG = 12  # a pentagon: every gap between neighbouring directions 72 +- this (a square and one has gaps 45 and 90)


def _at(models, **where):
    mask = np.ones(len(models), bool)
    for column, value in where.items():
        mask &= np.isclose(models[column].to_numpy(np.float64), value)
    return models[mask]


def represented(run: Run, sparsity: float, expected: int) -> Verdict:
    n = int(_at(run.best, sparsity=sparsity)["n_represented"].iloc[0])
    return Verdict(n == expected, f"{n}")


def antipodal(run: Run) -> Verdict:
    pairs = antipodal_pairs(run.W(_at(run.best, sparsity=0.8).iloc[0]))
    return Verdict(pairs == 2, f"{pairs} pairs")


def pentagon(run: Run) -> Verdict:
    gaps = angular_gaps(run.W(_at(run.best, sparsity=0.9).iloc[0]))
    return Verdict(len(gaps) == 5 and bool(np.all(np.abs(gaps - 72) <= GAP_DEG)), "gaps " + ", ".join(f"{g:.0f}" for g in gaps))


COUNTED = "a feature is represented when ||W_i|| > 0.5 (sweep/metrics.py: REPRESENTED_NORM): trained norms are near 0 or 1"
CLAIMS = (
    *(Claim("S={sparsity}: {expected} features represented",
            f"paraphrase: at S={s:g} the model represents {k} of the 5 features", SOURCE, COUNTED, represented,
            {"sparsity": s, "expected": k}) for s, k in ((0.0, 2), (0.8, 4), (0.9, 5))),
    Claim("S=0.8: the 4 features form 2 antipodal pairs", "paraphrase: at S=0.8 the four features form two antipodal pairs",
          SOURCE, "a pair is antipodal when cos(W_i, W_j) < -0.9 (both norms > 0.5)", antipodal),
    Claim("S=0.9: a pentagon (5 directions, every gap between neighbours 72 +- 12 degrees)",
          "paraphrase: at S=0.9 all five features sit at the corners of a pentagon", SOURCE,
          f"5 directions with every gap 72 +- {GAP_DEG} degrees: no other 5-direction shape comes within it", pentagon),
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS):
    return []  # the generic figures (geometry, weights) show it
