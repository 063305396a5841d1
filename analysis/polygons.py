"""Reading an m=2 solution as a polygon: which features are stored, at which angles, and its shape (a pentagon, two
digons, other). Used by analysis/experiments/nonuniform.py; tests: tests/analysis/test_polygons.py.

Angles are of the columns W_i in the plane; a feature counts as stored when ||W_i|| > REPRESENTED_NORM (0.5, the
engine's rule, sweep/metrics.py). Cyclic gaps: the angles between neighbouring stored features going round.
"""
from __future__ import annotations

import numpy as np

from analysis.geometry import angle
from sweep.metrics import represented as stored  # ||W_i|| > REPRESENTED_NORM

PENTAGON, DIGONS, OTHER = "pentagon", "two digons", "other"
MIN_GAP = 30.0  # degrees: a pentagon's neighbours are 72 deg apart when regular; under 30 two features nearly coincide
ANTIPODAL = 150.0  # degrees: a digon's two features point (nearly) opposite ways (180 when exact)


def angles(W: np.ndarray) -> np.ndarray:
    """(n,) angle of each column W_i in degrees, in [0, 360)."""
    return np.degrees(np.arctan2(W[1], W[0])) % 360.0


def cyclic_gaps(W: np.ndarray) -> dict[int, tuple[float, float]]:
    """{stored feature: (gap to the previous stored feature, gap to the next), degrees, going counterclockwise}."""
    keep = np.flatnonzero(stored(W))
    if len(keep) < 2:
        return {}
    theta = angles(W)[keep]
    order = keep[np.argsort(theta)]
    ordered = np.sort(theta)
    gaps = np.diff(np.append(ordered, ordered[0] + 360.0))  # gaps[k]: from order[k] to order[k+1]
    return {int(f): (float(gaps[k - 1]), float(gaps[k])) for k, f in enumerate(order)}


def shape(W: np.ndarray) -> tuple[str, tuple[int, ...]]:
    """(PENTAGON, DIGONS or OTHER, the features not stored) of an m=2, n=5 solution.

    pentagon: all 5 stored and no two closer than MIN_GAP; two digons: exactly 4 stored, in two pairs each more than
    ANTIPODAL apart; anything else: other."""
    keep = np.flatnonzero(stored(W))
    dropped = tuple(int(i) for i in np.flatnonzero(~stored(W)))
    if W.shape != (2, 5):
        return OTHER, dropped
    if len(keep) == 5 and min(min(g) for g in cyclic_gaps(W).values()) > MIN_GAP:
        return PENTAGON, dropped
    if len(keep) == 4:
        partner = {i: [j for j in keep if j != i and angle(W[:, i], W[:, j]) > ANTIPODAL] for i in keep}
        if all(len(p) == 1 for p in partner.values()) and all(partner[p[0]] == [i] for i, p in partner.items()):
            return DIGONS, dropped
    return OTHER, dropped


def aligned(W: np.ndarray, feature: int = 0) -> np.ndarray:
    """W rotated so that W_feature points along +x (unchanged when that column is ~0), and reflected so that the
    next stored feature counterclockwise lies above the axis: solutions compare at a glance."""
    column = W[:, feature]
    if np.linalg.norm(column) < 1e-9:
        return W
    c, s = column / np.linalg.norm(column)
    rotated = np.array([[c, s], [-s, c]]) @ W
    others = [i for i in np.flatnonzero(stored(rotated)) if i != feature]
    if others:
        theta = angles(rotated)[others]
        nearest = others[int(np.argmin(np.minimum(theta, 360.0 - theta)))]
        if rotated[1, nearest] < 0:
            rotated = rotated * np.array([[1.0], [-1.0]])
    return rotated
