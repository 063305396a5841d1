"""How each feature is represented, from the weights alone (numpy; works on stacked W).

W has shape (..., n_hidden, n_features); column W_i is feature i's embedding.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

# the functions mutation testing plants bugs in (tools/mutate.py; the rest is plumbing or messages)
MUTATE_ONLY = ["REPRESENTED_NORM", "feature_norms", "overlaps", "superposition", "interference", "pairwise_angles",
               "dimensionality", "dimensions_per_feature", "represented"]

if TYPE_CHECKING:
    from sweep.shapes import FeatureMask, PerFeature, PerModel, PerPair, Weights

REPRESENTED_NORM = 0.5  # a feature with ||W_i|| above this counts as represented
IN_NEURON = 0.5  # model.kind=privileged: feature i is in neuron j when W_ji is above this (abs: |W1_ji| rescaled)
DEAD_GAIN = 0.1  # model.kind=abs: a neuron whose rescaled output weights |W2_ij| are all below this is dead


def feature_norms(W: Weights) -> PerFeature:
    """||W_i||, shape (..., n_features)."""
    return np.linalg.norm(W, axis=-2)


def overlaps(W: Weights) -> PerPair:
    """(W_i_hat . W_j) for every pair, shape (..., n_features i, n_features j); 0 rows for zero columns."""
    norms = feature_norms(W)
    W_hat = W / np.where(norms > 0, norms, 1.0)[..., None, :]
    return np.einsum("...mi,...mj->...ij", W_hat, W)


def superposition(W: Weights) -> PerFeature:
    """sum_{j != i} (W_i_hat . W_j)^2: how much other features interfere along feature i's direction."""
    o2 = overlaps(W) ** 2
    return o2.sum(axis=-1) - np.diagonal(o2, axis1=-2, axis2=-1)


def interference(W: Weights) -> PerFeature:
    """sum_{j != i} W_i . W_j: the signed interference score of feature i (row sums of W^T W off the diagonal)."""
    gram = np.einsum("...mi,...mj->...ij", W, W)
    return gram.sum(axis=-1) - np.diagonal(gram, axis1=-2, axis2=-1)


def pairwise_angles(W: Weights) -> PerPair:
    """Angle in degrees between W_i and W_j for every pair, shape (..., n, n); NaN where a feature's norm is 0."""
    norms = feature_norms(W)
    safe = np.where(norms > 0, norms, np.nan)
    cosine = np.einsum("...mi,...mj->...ij", W, W) / (safe[..., :, None] * safe[..., None, :])
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def dimensionality(W: Weights) -> PerFeature:
    """D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2 (the paper's feature dimensionality); 0 for a zero feature."""
    total = (overlaps(W) ** 2).sum(axis=-1)
    return np.where(total > 0, feature_norms(W) ** 2 / np.where(total > 0, total, 1.0), 0.0)


def dimensionality_sum(W: Weights) -> PerModel:
    """sum_i D_i, shape (...). At most rank(W) <= m (Scherlis et al. 2022): with G = W^T W and P the projection on
    its range, G_ii = (P e_i) . (G e_i) <= ||P e_i|| ||G e_i||, so D_i = G_ii^2 / (G^2)_ii <= P_ii, and sum_i P_ii = rank."""
    return dimensionality(np.asarray(W, np.float64)).sum(axis=-1)


def dimensions_per_feature(W: Weights) -> PerModel:
    """m / ||W||_F^2: hidden dimensions spent per (unit-norm) feature; NaN for W = 0 (no feature kept: undefined)."""
    total = np.sum(np.asarray(W) ** 2, axis=(-2, -1))
    return np.where(total > 0, W.shape[-2] / np.where(total > 0, total, 1.0), np.nan)


def neuron_features(W, threshold: float = IN_NEURON):
    """(..., m, n) bool: feature i is in neuron j (W_ji > threshold). Meaningful where the hidden basis is privileged
    (h = ReLU(W x)): a positive weight carries the feature, a negative one only inhibits the neuron."""
    return np.asarray(W) > threshold


def polysemantic_neurons(W, threshold: float = IN_NEURON):
    """Neurons with two or more features in them, shape (...)."""
    return (neuron_features(W, threshold).sum(axis=-1) >= 2).sum(axis=-1)


def rescaled(W1, W2):
    """The paper's rescaling of an untied model (model.kind=abs): each hidden unit j divided by its largest |W1_ji|,
    W2's column j multiplied by it; ReLU(c z) = c ReLU(z) for c > 0, so the model's function is unchanged.
    W1 (..., m, n), W2 (..., n, m); a unit with W1_j = 0 is left as it is."""
    scale = np.abs(np.asarray(W1)).max(axis=-1, keepdims=True)  # (..., m, 1)
    safe = np.where(scale > 0, scale, 1.0)
    return np.asarray(W1) / safe, np.asarray(W2) * np.swapaxes(safe, -1, -2)


def alive_neurons(W1, W2, gain: float = DEAD_GAIN):
    """(..., m) bool: neuron j acts on the output, its largest rescaled output weight max_i |W2_ij| above `gain`
    (a neuron computing ReLU(+-x_i) for |x_i| has gain 1)."""
    return np.abs(rescaled(W1, W2)[1]).max(axis=-2) > gain


def abs_neuron_features(W1, W2, threshold: float = IN_NEURON):
    """(..., m, n) bool, model.kind=abs: feature i is in neuron j when |W1_ji| > threshold after the rescaling (either
    sign carries the feature: ReLU(x_i) or ReLU(-x_i)) and the neuron is alive; a dead neuron holds none."""
    return (np.abs(rescaled(W1, W2)[0]) > threshold) & alive_neurons(W1, W2)[..., :, None]


def represented(W: Weights, threshold: float = REPRESENTED_NORM) -> FeatureMask:
    return feature_norms(W) > threshold
