"""Uniform superposition's geometry from W alone: feature dimensionalities D_i near the paper's fractions, and the
tegum factors (connected components of the interaction graph of large |W_i . W_j|) named as polytopes.

Fixed before the full-size run (docs/experiments/geometry.md):
- a D_i is *near* a fraction when within NEAR of it: NEAR = 0.0125 is half the smallest gap between two listed
  fractions (2/5 - 3/8 = 0.025), so a D_i is near at most one of them;
- an *edge* joins two represented features (norm > REPRESENTED_NORM) when |W_i . W_j| > EDGE = 0.2: below every dot
  product that holds a listed polytope together (tetrahedron 1/3, the pentagon's 0.81 and 0.31, the square
  antiprism's 0.43-0.75 between neighbours), well above the 0 between orthogonal factors;
- a factor is *named* when its size k and every D_i in it fit one polytope: k features each near D = dims / k.
"""
from __future__ import annotations

import numpy as np

from sweep.metrics import REPRESENTED_NORM, dimensionality, feature_norms

# D_i of each vertex: (fraction, polytope, features, dimensions)
POLYTOPES = ((1.0, "dedicated", 1, 1), (3 / 4, "tetrahedron", 4, 3), (2 / 3, "triangle", 3, 2),
             (1 / 2, "digon", 2, 1), (2 / 5, "pentagon", 5, 2), (3 / 8, "square antiprism", 8, 3))
FRACTIONS = tuple(f for f, *_ in POLYTOPES) + (0.0,)
NEAR = 0.0125
EDGE = 0.2


def near_fraction(D: np.ndarray) -> np.ndarray:
    """(n,) bool: D_i within NEAR of one of FRACTIONS."""
    return (np.abs(np.asarray(D)[:, None] - np.asarray(FRACTIONS)[None, :]) <= NEAR).any(axis=1)


def factors(W: np.ndarray, edge: float = EDGE) -> list[np.ndarray]:
    """The connected components (feature indices) of the graph on represented features with an edge where
    |W_i . W_j| > edge."""
    keep = np.flatnonzero(feature_norms(W) > REPRESENTED_NORM)
    adjacent = np.abs(W[:, keep].T @ W[:, keep]) > edge
    label = -np.ones(len(keep), dtype=int)
    for start in range(len(keep)):
        if label[start] >= 0:
            continue
        label[start], frontier = start, [start]
        while frontier:
            i = frontier.pop()
            for j in np.flatnonzero(adjacent[i] & (label < 0)):
                label[j] = start
                frontier.append(j)
    return [keep[label == c] for c in np.unique(label)]


def name(D_factor: np.ndarray) -> str:
    """The polytope whose size and D_i fit the factor's D_i, else 'other (k)'."""
    for fraction, polytope, k, _ in POLYTOPES:
        if len(D_factor) == k and np.all(np.abs(D_factor - fraction) <= NEAR):
            return polytope
    return f"other ({len(D_factor)})"


def polytopes(W: np.ndarray, edge: float = EDGE) -> list[tuple[str, np.ndarray]]:
    """Each tegum factor of W (m, n): (its name, its feature indices)."""
    D = dimensionality(np.asarray(W, dtype=np.float64))
    return [(name(D[f]), f) for f in factors(W, edge)]
