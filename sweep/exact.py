"""Exact expected loss of a small ReLU toy model under the uniform data law (no sampling noise).

Condition on which features are present, integrate the uniform values of the interfering
features out with the antiderivative identity

    int_0^1 ReLU(t + c y)^q dy = [ReLU(t + c)^(q+1) - ReLU(t)^(q+1)] / ((q + 1) c),

which leaves a short sum of ReLU powers of (a x + shift), and integrate the feature's own value x
by Gauss-Legendre on each side of the kink (exact: the integrand is a low-degree polynomial there).
Derivation and Monte Carlo checks: docs/analysis.md, tests/analysis/test_theory.py.

The engine stores `exact_loss` per model with it (`model_losses`, numpy float64, no compilation);
the theory (analysis/theory.py) minimises it with jax. Cost grows as n 3^(n-1): it is computed
for n_features <= MAX_FEATURES.
"""
from __future__ import annotations

import functools
import itertools
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

if TYPE_CHECKING:
    from sweep.kinds import Kind
    from sweep.shapes import Bias, PerFeature, PerModel, Weights

SMALL = 1e-5  # |G_ij| below this counts as 0 (changes the loss by O(|G_ij|); avoids dividing by ~0)
MAX_FEATURES = 6  # n 3^(n-1) terms per model: 1,458 at n=6, 5,103 at n=7
CHUNK = 512  # models per numpy evaluation (bounds memory at n=6)


@functools.lru_cache(maxsize=None)
def _combinations(n_others: int):
    """Every way the n-1 interferers enter one feature's pre-activation, grouped by L.

    Per interferer: 0 absent (or present with |coupling| < SMALL, treated as 0); 1 and 2 the two
    terms of the antiderivative identity. L = number of interferers integrated (choices 1, 2).
    Returns (choices (C, n-1) sorted by L, L (C,)).
    """
    choices = np.array(list(itertools.product(range(3), repeat=n_others)), dtype=np.int32).reshape(-1, n_others)
    n_integrated = (choices > 0).sum(axis=1)
    order = np.argsort(n_integrated, kind="stable")
    return choices[order], n_integrated[order]


def _rising(q: int, n_integrated: int) -> float:
    """(q+1)(q+2)...(q+L): the constant the identity divides by after L integrations."""
    return float(np.prod(np.arange(q + 1, q + n_integrated + 1, dtype=np.float64)))


def _gauss_legendre(degree: int):
    """Nodes and weights on [0, 1] that integrate polynomials up to `degree` exactly."""
    nodes, weights = np.polynomial.legendre.leggauss(degree // 2 + 1)
    return (nodes + 1) / 2, weights / 2


def _namespace(*arrays):
    """jax.numpy if any input is a jax array (or tracer: differentiable), else numpy (float64, no compiling)."""
    return jnp if any(isinstance(a, jax.Array) for a in arrays) else np


def _moments(xp, a, shift, power: int, nodes, weights):
    """(int_0^1 x ReLU(a x + shift)^power dx, int_0^1 ReLU(a x + shift)^(power+1) dx), exactly.

    On each side of the kink x = -shift/a the integrand is a polynomial, so Gauss-Legendre with
    enough nodes is exact there, also for a -> 0. a, shift: (..., C); power: a Python int.
    """
    safe_a = xp.where(a == 0, 1.0, a)
    kink = xp.where(a == 0, 0.0, xp.clip(-shift / safe_a, 0.0, 1.0))  # (..., C)
    cross = square = 0.0
    for lo, hi in ((xp.zeros_like(kink), kink), (kink, xp.ones_like(kink))):
        x = lo[..., None] + (hi - lo)[..., None] * nodes  # (..., C, K)
        relu = xp.maximum(a[..., None] * x + shift[..., None], 0.0)
        powered = relu**power  # integer power: multiplications, cheap to differentiate
        cross = cross + (hi - lo) * xp.sum(weights * x * powered, axis=-1)
        square = square + (hi - lo) * xp.sum(weights * powered * relu, axis=-1)
    return cross, square


def feature_losses(W: Weights, b: Bias, density: PerFeature | PerModel) -> PerFeature:
    """Exact E[(x_i - x'_i)^2] per feature for x' = ReLU(W^T W x + b), uniform values on [0, 1].

    W (..., m, n), b (..., n), density (...,) or (..., n): probability that a feature is present.
    numpy inputs give a numpy result; jax inputs (or tracers) a differentiable jax one. Returns (..., n).
    """
    xp = _namespace(W, b, density)
    W, b = xp.asarray(W), xp.asarray(b)
    n = W.shape[-1]
    density = xp.asarray(density, W.dtype)
    density = xp.broadcast_to(density[..., None] if density.ndim < b.ndim else density, b.shape)
    gram = xp.einsum("...mi,...mj->...ij", W, W)
    self_weight = xp.diagonal(gram, axis1=-2, axis2=-1)  # a_i = ||W_i||^2
    others = np.array([[j for j in range(n) if j != i] for i in range(n)], dtype=np.int32).reshape(n, n - 1)
    coupling = xp.take_along_axis(gram, xp.broadcast_to(others, gram.shape[:-2] + others.shape), axis=-1)  # (..., n, n-1)
    p_other = density[..., others]  # (..., n, n-1)
    # An interferer with a negligible coupling acts as absent (exact for coupling 0): no 1/coupling blow-up.
    live = xp.abs(coupling) >= SMALL
    safe = xp.where(live, coupling, 1.0)
    # per interferer and choice: probability x 1/coupling factor, and shift of the pre-activation
    factor = xp.stack([1 - xp.where(live, p_other, 0.0), xp.where(live, p_other / safe, 0.0),
                       xp.where(live, -p_other / safe, 0.0)], axis=-1)  # (..., n, n-1, 3)
    offset = xp.stack([xp.zeros_like(coupling), coupling, xp.zeros_like(coupling)], axis=-1)
    choices, n_integrated = _combinations(n - 1)
    pick = np.arange(n - 1)
    weight = xp.prod(factor[..., pick, choices], axis=-1)  # (..., n, C)
    shift = b[..., None] + xp.sum(offset[..., pick, choices], axis=-1)  # (..., n, C)
    a = xp.broadcast_to(self_weight[..., None], shift.shape)
    nodes, weights = _gauss_legendre(2 + (n - 1))  # degree of x^j ReLU(.)^power on a piece
    absent = present = 0.0
    for L in range(n):  # combinations with L integrated interferers: ReLU powers L+1 (x ReLU) and L+2 (ReLU^2)
        group = slice(int(np.searchsorted(n_integrated, L)), int(np.searchsorted(n_integrated, L, side="right")))
        w_cross, w_square = weight[..., group] / _rising(1, L), weight[..., group] / _rising(2, L)
        absent = absent + xp.sum(w_square * xp.maximum(shift[..., group], 0.0) ** (L + 2), axis=-1)
        cross, square = _moments(xp, a[..., group], shift[..., group], L + 1, nodes, weights)
        present = present + xp.sum(w_square * square - 2 * w_cross * cross, axis=-1)
    return (1 - density) * absent + density * (1 / 3 + present)


def expected_loss(W: Weights, b: Bias, density: PerFeature | PerModel, importance: PerFeature) -> PerModel:
    """Exact expected training loss: mean over features of importance_i E[(x_i - x'_i)^2] (as `loss`)."""
    xp = _namespace(W, b, density, importance)
    return xp.mean(xp.asarray(importance) * feature_losses(W, b, density), axis=-1)


def available(kind: Kind, n_features: int, distribution: str) -> bool:
    """Is the exact loss computed for this group: a kind with a closed form (the ReLU model; sweep/kinds.py), uniform
    values, n_features <= MAX_FEATURES."""
    return kind.exact and distribution == "uniform" and n_features <= MAX_FEATURES


def model_losses(W: Weights, b: Bias, density: PerFeature | PerModel, importance: PerFeature) -> np.ndarray:
    """Exact expected loss of every stacked model, float64: W (G, m, n), b (G, n), density, importance (G, n)."""
    W, b = np.asarray(W, np.float64), np.asarray(b, np.float64)
    density, importance = np.asarray(density, np.float64), np.asarray(importance, np.float64)
    out = np.full(len(W), np.nan)
    with np.errstate(all="ignore"):  # diverged models give NaN, as their loss does
        for start in range(0, len(W), CHUNK):
            part = slice(start, start + CHUNK)
            out[part] = expected_loss(W[part], b[part], density[part], importance[part])
    return out
