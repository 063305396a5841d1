"""Closed-form expected loss of small ReLU toy models, and the theoretical phase diagrams.

The expected loss of ANY (W, b) with a handful of features is computed exactly (derivation in
docs/analysis.md): condition on which features are present, integrate the uniform values of the
interfering features out with the antiderivative identity

    int_0^1 ReLU(t + c y)^q dy = [ReLU(t + c)^(q+1) - ReLU(t)^(q+1)] / ((q + 1) c),

which leaves a short sum of ReLU powers of (a x + shift), and integrate the feature's own value x
by Gauss-Legendre on each side of the kink (exact: the integrand is a low-degree polynomial there).

A phase diagram then minimises that loss over each candidate configuration's free parameters
(norms, angles, biases) for every (density, relative importance) cell, takes the best candidate
and classifies the extra feature of its optimum by the same rule as trained models (analysis/phase.py).
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from analysis.config import PhaseConfig, TheoryConfig
from analysis.phase import classify
from sweep import metrics

SMALL = 1e-5  # |G_ij| below this counts as 0 (changes the loss by O(|G_ij|); avoids dividing by ~0)


# ----------------------------------------------------------------------------- exact expected loss


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


def _moments(a, shift, power: int, nodes, weights):
    """(int_0^1 x ReLU(a x + shift)^power dx, int_0^1 ReLU(a x + shift)^(power+1) dx), exactly.

    On each side of the kink x = -shift/a the integrand is a polynomial, so Gauss-Legendre with
    enough nodes is exact there, also for a -> 0. a, shift: (..., C); power: a Python int.
    """
    safe_a = jnp.where(a == 0, 1.0, a)
    kink = jnp.where(a == 0, 0.0, jnp.clip(-shift / safe_a, 0.0, 1.0))  # (..., C)
    cross = square = 0.0
    for lo, hi in ((jnp.zeros_like(kink), kink), (kink, jnp.ones_like(kink))):
        x = lo[..., None] + (hi - lo)[..., None] * nodes  # (..., C, K)
        relu = jnp.maximum(a[..., None] * x + shift[..., None], 0.0)
        powered = relu**power  # integer power: multiplications, cheap to differentiate
        cross = cross + (hi - lo) * jnp.sum(weights * x * powered, axis=-1)
        square = square + (hi - lo) * jnp.sum(weights * powered * relu, axis=-1)
    return cross, square


def feature_losses(W, b, density):
    """Exact E[(x_i - x'_i)^2] per feature for x' = ReLU(W^T W x + b), uniform values on [0, 1].

    W (..., m, n), b (..., n), density (...,) or (..., n): probability that a feature is present.
    Works with jax or numpy inputs (differentiable); returns (..., n). Cost grows as n 3^(n-1),
    meant for n <= 6.
    """
    W, b = jnp.asarray(W), jnp.asarray(b)
    n = W.shape[-1]
    density = jnp.broadcast_to(jnp.asarray(density, W.dtype)[..., None] if jnp.ndim(density) < b.ndim else density, b.shape)
    gram = jnp.einsum("...mi,...mj->...ij", W, W)
    self_weight = jnp.diagonal(gram, axis1=-2, axis2=-1)  # a_i = ||W_i||^2
    others = np.array([[j for j in range(n) if j != i] for i in range(n)], dtype=np.int32).reshape(n, n - 1)
    coupling = jnp.take_along_axis(gram, jnp.broadcast_to(others, gram.shape[:-2] + others.shape), axis=-1)  # (..., n, n-1)
    p_other = density[..., others]  # (..., n, n-1)
    # An interferer with a negligible coupling acts as absent (exact for coupling 0): no 1/coupling blow-up.
    live = jnp.abs(coupling) >= SMALL
    safe = jnp.where(live, coupling, 1.0)
    # per interferer and choice: probability x 1/coupling factor, and shift of the pre-activation
    factor = jnp.stack([1 - jnp.where(live, p_other, 0.0), jnp.where(live, p_other / safe, 0.0),
                        jnp.where(live, -p_other / safe, 0.0)], axis=-1)  # (..., n, n-1, 3)
    offset = jnp.stack([jnp.zeros_like(coupling), coupling, jnp.zeros_like(coupling)], axis=-1)
    choices, n_integrated = _combinations(n - 1)
    pick = np.arange(n - 1)
    weight = jnp.prod(factor[..., pick, choices], axis=-1)  # (..., n, C)
    shift = b[..., None] + jnp.sum(offset[..., pick, choices], axis=-1)  # (..., n, C)
    a = jnp.broadcast_to(self_weight[..., None], shift.shape)
    nodes, weights = _gauss_legendre(2 + (n - 1))  # degree of x^j ReLU(.)^power on a piece
    absent = present = 0.0
    for L in range(n):  # combinations with L integrated interferers: ReLU powers L+1 (x ReLU) and L+2 (ReLU^2)
        group = slice(int(np.searchsorted(n_integrated, L)), int(np.searchsorted(n_integrated, L, side="right")))
        w_cross, w_square = weight[..., group] / _rising(1, L), weight[..., group] / _rising(2, L)
        absent = absent + jnp.sum(w_square * jnp.maximum(shift[..., group], 0.0) ** (L + 2), axis=-1)
        cross, square = _moments(a[..., group], shift[..., group], L + 1, nodes, weights)
        present = present + jnp.sum(w_square * square - 2 * w_cross * cross, axis=-1)
    return (1 - density) * absent + density * (1 / 3 + present)


def expected_loss(W, b, density, importance):
    """Exact expected training loss: mean over features of importance_i E[(x_i - x'_i)^2] (as `loss`)."""
    return jnp.mean(jnp.asarray(importance) * feature_losses(W, b, density), axis=-1)


def ignored_feature_loss(density):
    """Loss of a feature with W_i = 0 and its optimal bias E[x] = density / 2: Var(x) = p/3 - p^2/4."""
    density = np.asarray(density, np.float64)
    return density / 3 - density**2 / 4


# ----------------------------------------------------------------------------- candidate solutions


@dataclass(frozen=True)
class Candidate:
    """One family of solutions: free parameters theta -> (W, b), given density p (the extra feature is last).

    `pair` = (i, j): theta = (u, v, b_i, b_j) of an antipodal pair W_i = u e, W_j = -v e along a
    direction no other feature uses; the pair then does not interact with the rest, so theta is
    fitted on the two-feature problem (features i, j and their importances) alone.
    """

    name: str
    description: str
    build: Callable  # (theta (..., k), p (...)) -> W (..., m, n), b (..., n)
    starts: tuple = ()  # initial theta vectors; () for a configuration without free parameters
    pair: tuple | None = None


def _stack_W(rows):
    return jnp.stack([jnp.stack(row, axis=-1) for row in rows], axis=-2)


def _fixed(W):
    """A fixed W; features with a zero column get their optimal bias p/2, the others bias 0."""
    W = np.asarray(W, np.float64)
    ignored = np.linalg.norm(W, axis=0) == 0

    def build(theta, p):
        p = jnp.asarray(p)
        return jnp.broadcast_to(W, p.shape + W.shape), jnp.where(ignored, p[..., None] / 2, 0.0)

    return build


def _pair(theta):
    u, v, b_i, b_j = (theta[..., k] for k in range(4))
    return u, v, b_i, b_j, jnp.ones_like(u), jnp.zeros_like(u)


def _antipodal_2_1(theta, p):
    u, v, b0, b1, one, zero = _pair(theta)
    return _stack_W([[u, -v]]), jnp.stack([b0, b1], axis=-1)


def _dedicated_antipodal_3_2(theta, p):
    u, v, b0, b1, one, zero = _pair(theta)
    return _stack_W([[u, -v, zero], [zero, zero, one]]), jnp.stack([b0, b1, zero], axis=-1)


def _antipodal_3_2(theta, p):
    u, v, b1, b2, one, zero = _pair(theta)
    return _stack_W([[one, zero, zero], [zero, u, -v]]), jnp.stack([zero, b1, b2], axis=-1)


def _triangle_3_2(theta, p):
    """Extra feature a (0, 1); the two others c (+-sin t, -cos t), mirror images (they have equal importance)."""
    a, c, t, b_other, b_extra = (theta[..., k] for k in range(5))
    s, k = jnp.sin(t), jnp.cos(t)
    W = _stack_W([[c * s, -c * s, jnp.zeros_like(a)], [-c * k, -c * k, a]])
    return W, jnp.stack([b_other, b_other, b_extra], axis=-1)


_PAIR_STARTS = ((1.0, 1.0, 0.0, 0.0), (1.0, 1.0, -0.1, -0.1), (1.0, 0.6, -0.05, 0.0), (0.6, 1.0, 0.0, -0.05))
_TRIANGLE_STARTS = ((1.0, 1.0, np.pi / 3, 0.0, 0.0), (1.0, 1.0, np.pi / 3, -0.1, -0.1),
                    (0.8, 1.0, np.pi / 4, 0.0, 0.0), (1.0, 0.8, 1.2, -0.05, 0.0))

# Candidates in order of simplicity (the earlier one wins a tie).
CANDIDATES = {
    (2, 1): (
        Candidate("ignored", "W = [1, 0]: the extra feature is dropped (bias p/2)", _fixed([[1, 0]])),
        Candidate("dedicated", "W = [0, 1]: the extra feature takes the dimension, feature 0 dropped", _fixed([[0, 1]])),
        Candidate("antipodal", "W = [u, -v], biases free: antipodal pair", _antipodal_2_1, _PAIR_STARTS, (0, 1)),
    ),
    (3, 2): (
        Candidate("ignored", "features 0, 1 orthogonal, extra dropped", _fixed([[1, 0, 0], [0, 1, 0]])),
        Candidate("dedicated", "feature 0 and extra orthogonal, feature 1 dropped", _fixed([[1, 0, 0], [0, 0, 1]])),
        Candidate("dedicated_antipodal", "extra has a dimension, features 0, 1 antipodal in the other",
                  _dedicated_antipodal_3_2, _PAIR_STARTS, (0, 1)),
        Candidate("antipodal", "feature 0 has a dimension, feature 1 and extra antipodal in the other",
                  _antipodal_3_2, _PAIR_STARTS, (1, 2)),
        Candidate("triangle", "all three in the plane, features 0, 1 mirror images about the extra one",
                  _triangle_3_2, _TRIANGLE_STARTS),
    ),
}


def extra_importance(n_features: int, relative):
    """Importance of features 0..n-2 is 1, the last (extra) feature `relative`: (..., n)."""
    relative = np.asarray(relative, np.float64)
    return np.concatenate([np.ones(relative.shape + (n_features - 1,)), relative[..., None]], axis=-1)


@functools.lru_cache(maxsize=None)
def _optimiser(build: Callable, steps: int, lr: float):
    """A jitted Adam run minimising build's expected loss for a batch of (theta, p, importance)."""

    def loss(theta, p, importance):
        W, b = build(theta, p)
        return expected_loss(W, b, p, importance)

    optimiser = optax.adam(optax.cosine_decay_schedule(lr, steps, alpha=1e-3))

    @jax.jit
    def run(theta, p, importance):
        total = lambda t: jnp.sum(loss(t, p, importance))  # cells are independent; Adam is per coordinate

        def step(state, _):
            theta, opt_state = state
            updates, opt_state = optimiser.update(jax.grad(total)(theta), opt_state)
            return (optax.apply_updates(theta, updates), opt_state), None

        (theta, _), _ = jax.lax.scan(step, (theta, optimiser.init(theta)), None, length=steps)
        return theta, loss(theta, p, importance)

    return run


def _fit(candidate: Candidate, density, importance, config: TheoryConfig):
    """Best theta (cells, k) over the candidate's starts, optimised for every cell at once."""
    if not candidate.starts:
        return np.zeros((len(density), 0))
    build = _antipodal_2_1 if candidate.pair else candidate.build
    if candidate.pair:
        importance = importance[:, list(candidate.pair)]
    # identical problems are solved once (e.g. a pair of unit-importance features, whatever r is)
    problems, inverse = np.unique(np.column_stack([density, importance]), axis=0, return_inverse=True)
    density, importance = problems[:, 0], problems[:, 1:]
    starts = np.asarray(candidate.starts, np.float64)  # (S, k)
    cells, n_starts = len(density), len(starts)
    theta0 = np.broadcast_to(starts, (cells,) + starts.shape).reshape(-1, starts.shape[1])
    theta, loss = _optimiser(build, config.steps, config.lr)(
        jnp.asarray(theta0), jnp.asarray(np.repeat(density, n_starts)), jnp.asarray(np.repeat(importance, n_starts, axis=0)))
    loss = np.asarray(loss).reshape(cells, n_starts)
    best = np.argmin(np.where(np.isfinite(loss), loss, np.inf), axis=1)
    return np.asarray(theta).reshape(cells, n_starts, -1)[np.arange(cells), best][inverse.reshape(-1)]


@functools.lru_cache(maxsize=None)
def _jitted(function: Callable) -> Callable:
    """jax.jit(function), once per function: eager jax would compile every primitive on first use."""
    return jax.jit(function)


def candidate_solutions(n_features: int, n_hidden: int, density, relative, config: TheoryConfig = TheoryConfig()):
    """Optimal loss and weights of every candidate at every (density, relative) pair.

    density, relative: 1-D arrays of equal length (cells). Returns a tidy DataFrame, one row per
    cell x candidate: density, relative, candidate, loss (the model's mean-over-features loss),
    W, b (the optimum, as arrays), extra_norm, extra_superposition.
    """
    key = (n_features, n_hidden)
    if key not in CANDIDATES:
        raise ValueError(f"no theoretical candidates for n_features={n_features}, n_hidden={n_hidden}; "
                         f"available: {sorted(CANDIDATES)}")
    density = np.asarray(density, np.float64).reshape(-1)
    relative = np.asarray(relative, np.float64).reshape(-1)
    importance = extra_importance(n_features, relative)
    tables = []
    with jax.enable_x64(True):
        for candidate in CANDIDATES[key]:
            theta = _fit(candidate, density, importance, config)
            W, b = (np.asarray(x) for x in _jitted(candidate.build)(jnp.asarray(theta), jnp.asarray(density)))
            tables.append(pd.DataFrame({
                "density": density, "relative": relative, "candidate": candidate.name,
                "loss": np.asarray(_jitted(expected_loss)(W, b, density, importance)),
                "W": list(W), "b": list(b),
                "extra_norm": metrics.feature_norms(W)[:, -1], "extra_superposition": metrics.superposition(W)[:, -1],
            }))
    return pd.concat(tables, ignore_index=True)


def phase_diagram(n_features: int, n_hidden: int, density, relative, phase: PhaseConfig = PhaseConfig(),
                  theory: TheoryConfig = TheoryConfig()) -> pd.DataFrame:
    """The theoretical phase of the extra feature on the grid density x relative (1-D axes).

    One row per cell: density, relative, loss_<candidate> for each candidate, candidate (the
    winner; an earlier candidate within `theory.tie` of the best wins), loss, W, b, extra_norm,
    extra_superposition and phase (of the winner's optimum, classified like a trained model).
    """
    d, r = np.meshgrid(np.asarray(density, np.float64), np.asarray(relative, np.float64), indexing="ij")
    solutions = candidate_solutions(n_features, n_hidden, d.ravel(), r.ravel(), theory)
    names = [c.name for c in CANDIDATES[(n_features, n_hidden)]]
    cells = d.size
    losses = solutions["loss"].to_numpy().reshape(len(names), cells).T  # candidates were stacked in order
    best = losses.min(axis=1, keepdims=True)
    winner = np.argmax(losses <= best + theory.tie * np.abs(best), axis=1)  # first candidate within the margin
    chosen = solutions.iloc[winner * cells + np.arange(cells)].reset_index(drop=True)
    table = chosen[["density", "relative"]].copy()
    for k, name in enumerate(names):
        table[f"loss_{name}"] = losses[:, k]
    for column in ("candidate", "loss", "W", "b", "extra_norm", "extra_superposition"):
        table[column] = chosen[column]
    table["phase"] = classify(table["extra_norm"], table["extra_superposition"], phase)
    return table
