"""The paper's theoretical phase diagram: fixed candidates and their closed-form losses, no optimisation.

Unit-norm features, bias 0 except a dropped feature's optimal bias p/2. For n=2, m=1 with
per-feature density p and relative importance r (summed over features, as in the paper):
ignored r(p/3 - p^2/4), dedicated p/3 - p^2/4, antipodal (1 + r) p^2/6. Boundaries: density
4r/(2 + 5r) and 4/(5 + 2r), triple point (r, p) = (1, 4/7); for n=3, m=2 the line p = 4/7 for r > 1.
The optimum over free norms and biases is analysis/theory.py; never present one as the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from analysis.classify import tied_phases
from analysis.config import PhaseConfig, TheoryConfig


def _dropped_loss(p):
    return p / 3 - p**2 / 4  # a dropped feature with its optimal bias p/2


def _pair_loss(p):
    return p**2 / 6  # each feature of an antipodal pair with b = 0: E[min(x, y)^2] when both are present


@dataclass(frozen=True)
class PaperCandidate:
    """A fixed configuration of the paper's diagram and its closed-form loss (summed over features)."""

    name: str
    W: tuple  # (m, n) rows
    total_loss: Callable  # (p, r) -> sum over features of importance x expected squared error

    def weights(self, p):
        """(W, b): dropped features (zero column) get their optimal bias p/2, the others 0."""
        W = np.asarray(self.W, np.float64)
        return W, np.where(np.linalg.norm(W, axis=0) == 0, p / 2, 0.0)


PAPER_CANDIDATES = {
    (2, 1): (
        PaperCandidate("ignored", ((1, 0),), lambda p, r: r * _dropped_loss(p)),
        PaperCandidate("dedicated", ((0, 1),), lambda p, r: _dropped_loss(p)),
        PaperCandidate("antipodal", ((1, -1),), lambda p, r: (1 + r) * _pair_loss(p)),
    ),
    (3, 2): (
        PaperCandidate("ignored", ((1, 0, 0), (0, 1, 0)), lambda p, r: r * _dropped_loss(p)),
        PaperCandidate("dedicated", ((1, 0, 0), (0, 0, 1)), lambda p, r: _dropped_loss(p)),
        PaperCandidate("dedicated_antipodal", ((1, -1, 0), (0, 0, 1)), lambda p, r: 2 * _pair_loss(p)),
        PaperCandidate("antipodal", ((1, 0, 0), (0, 1, -1)), lambda p, r: (1 + r) * _pair_loss(p)),
    ),
}


def paper_boundaries(relative):
    """The paper's n=2, m=1 boundaries as densities: (ignored | antipodal) 4r/(2+5r), (dedicated | antipodal) 4/(5+2r)."""
    r = np.asarray(relative, np.float64)
    return 4 * r / (2 + 5 * r), 4 / (5 + 2 * r)


def paper_phase_diagram(n_features: int, n_hidden: int, density, relative, phase: PhaseConfig = PhaseConfig(),
                        tie: float = TheoryConfig.tie) -> pd.DataFrame:
    """The paper's theoretical phase on the grid density x relative (1-D axes): closed forms, no optimisation.

    One row per cell: density, relative, loss_<candidate> (mean over features, comparable with a
    model's `loss`), candidate (the lowest; an earlier one within `tie` wins), loss and phase (the
    candidate's W classified like a trained model).
    """
    key = (n_features, n_hidden)
    if key not in PAPER_CANDIDATES:
        raise ValueError(f"no paper candidates for n_features={n_features}, n_hidden={n_hidden}; "
                         f"available: {sorted(PAPER_CANDIDATES)}")
    candidates = PAPER_CANDIDATES[key]
    d, r = np.meshgrid(np.asarray(density, np.float64), np.asarray(relative, np.float64), indexing="ij")
    table = pd.DataFrame({"density": d.ravel(), "relative": r.ravel()})
    losses = np.stack([c.total_loss(table["density"].to_numpy(), table["relative"].to_numpy()) / n_features
                       for c in candidates], axis=1)
    for k, c in enumerate(candidates):
        table[f"loss_{c.name}"] = losses[:, k]
    best = losses.min(axis=1, keepdims=True)
    winner = np.argmax(losses <= best + tie * np.abs(best), axis=1)
    table["candidate"] = [candidates[k].name for k in winner]
    table["loss"] = losses[np.arange(len(table)), winner]
    W = np.stack([np.asarray(candidates[k].W, np.float64) for k in winner])
    table["phase"], table["phases"] = tied_phases(W, table["relative"], phase)
    return table
