"""The phase rule: which phase a feature is in, read from W alone (the paper's colours: white = not learned,
blue = dedicated dimension, red = superposition). Used by trained models (analysis/phase.py) and both theories
(analysis/theory.py, theory_paper.py) alike, so they are classified by the same rule.
"""
from __future__ import annotations

import numpy as np

from analysis.config import PhaseConfig
from sweep import metrics

# the functions mutation testing plants bugs in (tools/mutate.py; the rest is plumbing or messages)
MUTATE_ONLY = ["classify", "tied_phases"]

PHASES = ("not_represented", "dedicated", "superposition")


def classify(norm, superposition, config: PhaseConfig = PhaseConfig()) -> np.ndarray:
    """'not_represented' if norm <= config.norm, else 'superposition' if superposition > config.superposition,
    else 'dedicated'."""
    norm, superposition = np.asarray(norm, np.float64), np.asarray(superposition, np.float64)
    return np.where(norm <= config.norm, PHASES[0], np.where(superposition > config.superposition, PHASES[2], PHASES[1]))


def tied_phases(W, relative, config: PhaseConfig = PhaseConfig()) -> tuple[np.ndarray, list[str]]:
    """(phase, phases) of the extra (last) feature of each theoretical optimum W (cells, m, n).

    At relative importance 1 every feature has importance 1, so relabelling features leaves the loss
    unchanged and an optimum and its mirror images tie (n=2, dense: one feature kept, one dropped, and
    which one is the "extra" is arbitrary). There `phases` lists every phase a feature of W has
    ("|"-joined, in PHASES order) and `phase` is the first of them, so ties are broken the same way in
    every cell; elsewhere both are the extra feature's own phase. `agreement` accepts any of `phases`.
    """
    W = np.asarray(W, np.float64)
    each = classify(metrics.feature_norms(W), metrics.superposition(W), config)  # (cells, n)
    tied = np.isclose(np.asarray(relative, np.float64), 1.0, rtol=1e-9, atol=0.0)
    sets = ["|".join(p for p in PHASES if p in row) if t else row[-1] for row, t in zip(each, tied)]
    return np.array([s.split("|")[0] for s in sets], dtype=object), sets


