"""The geometry of a model read from its columns W_i alone: antipodal pairs, angular gaps around the circle (m = 2),
and the feature sets of the correlated experiments.

A pair (a, b) of a set is read from W alone (thresholds fixed before the full-size runs):
- *collapsed*: W_a and W_b within COLLAPSED_DEG of each other, both with norm > COLLAPSED_MIN, and the pair's
  principal component (W_a + W_b) / sqrt(2) (what the model stores for it) has norm > REPRESENTED_NORM;
- *split*: both features represented (norm > REPRESENTED_NORM) in directions more than COLLAPSED_DEG apart;
- *one*: exactly one represented (and not collapsed); *ignored*: neither.
*PCA-like*: W^T W an orthogonal projection of rank m (max |W W^T - I_m| <= PCA_TOLERANCE), as a linear
autoencoder (PCA) learns.
"""
from __future__ import annotations

import numpy as np

from sweep.metrics import REPRESENTED_NORM, feature_norms

COLLAPSED_DEG = 20.0  # a pair this close in direction is one (collapsed) direction ...
COLLAPSED_MIN = 0.25  # ... if both features have at least this norm (else it is one feature and a stray)
PCA_TOLERANCE = 0.2  # PCA-like: max |W W^T - I_m| at most this


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


def angle(u, v) -> float:
    """Degrees between two vectors (NaN if one is zero)."""
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return float("nan")
    return float(np.degrees(np.arccos(np.clip(u @ v / (nu * nv), -1.0, 1.0))))


def sets_of(n: int, k: int) -> list[list[int]]:
    return [list(range(s, s + k)) for s in range(0, n, k)]


def pair_state(W, a: int, b: int) -> str:
    """collapsed | split | one | ignored (module docstring)."""
    norms = feature_norms(W)
    principal = np.linalg.norm(W[:, a] + W[:, b]) / np.sqrt(2)
    if angle(W[:, a], W[:, b]) <= COLLAPSED_DEG and principal > REPRESENTED_NORM and min(norms[a], norms[b]) > COLLAPSED_MIN:
        return "collapsed"
    represented = int(norms[a] > REPRESENTED_NORM) + int(norms[b] > REPRESENTED_NORM)
    return ("ignored", "one", "split")[represented]


def directions(W, k: int = 2) -> np.ndarray:
    """The distinct directions the model stores, one column each: a collapsed pair's principal component
    (W_a + W_b) / sqrt(2), and each represented feature of the other pairs."""
    columns = []
    for a, b in sets_of(W.shape[1], k):
        state = pair_state(W, a, b)
        if state == "collapsed":
            columns.append((W[:, a] + W[:, b]) / np.sqrt(2))
        else:
            columns += [W[:, i] for i in (a, b) if np.linalg.norm(W[:, i]) > REPRESENTED_NORM]
    return np.stack(columns, axis=1) if columns else np.zeros((W.shape[0], 0))


def collapse_summary(W, k: int = 2) -> dict:
    states = [pair_state(W, a, b) for a, b in sets_of(W.shape[1], k)]
    D = directions(W, k)
    return {"collapsed": states.count("collapsed"), "states": states, "directions": D.shape[1],
            "gaps": angular_gaps(D) if W.shape[0] == 2 else np.array([])}


def projection_error(W) -> float:
    """max |W W^T - I_m|: 0 when W^T W is an orthogonal projection of rank m, what PCA (a linear autoencoder) learns."""
    return float(np.abs(W @ W.T - np.eye(W.shape[0])).max())


def pca_like(W) -> bool:
    """W^T W an orthogonal rank-m projection (max |W W^T - I| <= PCA_TOLERANCE): the model acts as PCA, which
    spends its m dimensions without superposition (|W_i|^2 summed over features = m)."""
    return projection_error(W) <= PCA_TOLERANCE


def within_set_angles(W, k: int = 2) -> list[float]:
    return [angle(W[:, s[i]], W[:, s[j]]) for s in sets_of(W.shape[1], k) for i in range(k) for j in range(i)]


def side_by_side(W, k: int = 2) -> bool:
    """m = 2: the features of every set are neighbours around the circle (no other feature between them)."""
    order = np.argsort(np.degrees(np.arctan2(W[1], W[0])))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    n = W.shape[1]
    return all(min((position[a] - position[b]) % n, (position[b] - position[a]) % n) == 1 for a, b in sets_of(n, k))


def set_cosines(W, k: int) -> tuple[np.ndarray, np.ndarray]:
    """|cos(W_i, W_j)| of the pairs within a set and of the pairs across sets (features with norm > 0)."""
    norms = feature_norms(W)
    unit = W / np.where(norms > 0, norms, 1.0)
    cosine = np.abs(unit.T @ unit)
    same = np.arange(W.shape[1])[:, None] // k == np.arange(W.shape[1])[None, :] // k
    upper = np.triu(np.ones_like(same), 1)
    return cosine[same & upper], cosine[~same & upper]
