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

SMALL = 1e-4  # |G_ij| below this: y_j is integrated by the midpoint rule (error <= |G_ij| / 8)


# ----------------------------------------------------------------------------- exact expected loss


@functools.lru_cache(maxsize=None)
def _combinations(n_others: int):
    """Every way the n-1 interferers enter one feature's pre-activation.

    Per interferer: 0 absent; 1 and 2 the two terms of the antiderivative identity (present,
    |c| >= SMALL); 3 present with |c| < SMALL (midpoint). Returns (choices (C, k), n_integrated (C,)).
    """
    choices = np.array(list(itertools.product(range(4), repeat=n_others)), dtype=np.int32).reshape(-1, n_others)
    n_integrated = ((choices == 1) | (choices == 2)).sum(axis=1)
    return choices, n_integrated


def _rising(q: int, n_integrated: np.ndarray) -> np.ndarray:
    """(q+1)(q+2)...(q+L): the constants the identity divides by after L integrations."""
    return np.array([np.prod(np.arange(q + 1, q + L + 1, dtype=np.float64)) for L in n_integrated])


def _gauss_legendre(degree: int):
    """Nodes and weights on [0, 1] that integrate polynomials up to `degree` exactly."""
    nodes, weights = np.polynomial.legendre.leggauss(degree // 2 + 1)
    return (nodes + 1) / 2, weights / 2


def _relu_moment(j: int, power: np.ndarray, a, shift, nodes, weights):
    """int_0^1 x^j ReLU(a x + shift)^power dx, exactly, for every combination (last axis)."""
    safe_a = jnp.where(a == 0, 1.0, a)
    kink = jnp.where(a == 0, 0.0, jnp.clip(-shift / safe_a, 0.0, 1.0))  # (..., C)
    total = 0.0
    for lo, hi in ((jnp.zeros_like(kink), kink), (kink, jnp.ones_like(kink))):
        x = lo[..., None] + (hi - lo)[..., None] * nodes  # (..., C, K)
        value = jnp.maximum(a[..., None] * x + shift[..., None], 0.0) ** power[:, None]
        total = total + (hi - lo) * jnp.sum(weights * x**j * value, axis=-1)
    return total


def feature_losses(W, b, density):
    """Exact E[(x_i - x'_i)^2] per feature for x' = ReLU(W^T W x + b), uniform values on [0, 1].

    W (..., m, n), b (..., n), density (...,) or (..., n): probability that a feature is present.
    Works with jax or numpy inputs (differentiable); returns (..., n). Cost grows as n 4^(n-1),
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
    small = jnp.abs(coupling) < SMALL
    safe = jnp.where(small, 1.0, coupling)
    # per interferer and choice: probability / Jacobian factor and shift of the pre-activation
    factor = jnp.stack([1 - p_other, jnp.where(small, 0.0, p_other / safe), jnp.where(small, 0.0, -p_other / safe),
                        jnp.where(small, p_other, 0.0)], axis=-1)  # (..., n, n-1, 4)
    offset = jnp.stack([jnp.zeros_like(coupling), coupling, jnp.zeros_like(coupling), coupling / 2], axis=-1)
    choices, n_integrated = _combinations(n - 1)
    pick = np.arange(n - 1)
    weight = jnp.prod(factor[..., pick, choices], axis=-1)  # (..., n, C)
    shift = b[..., None] + jnp.sum(offset[..., pick, choices], axis=-1)  # (..., n, C)
    a = jnp.broadcast_to(self_weight[..., None], shift.shape)
    nodes, weights = _gauss_legendre(2 + (n - 1))  # degree of x^j ReLU(.)^power on a piece
    square = n_integrated + 2  # power of ReLU after integrating E[ReLU(.)^2]
    cross = n_integrated + 1  # ... and E[x ReLU(.)]
    w_square = weight / _rising(2, n_integrated)
    w_cross = weight / _rising(1, n_integrated)
    absent = jnp.sum(w_square * jnp.maximum(shift, 0.0) ** square, axis=-1)
    present = (1 / 3 - 2 * jnp.sum(w_cross * _relu_moment(1, cross, a, shift, nodes, weights), axis=-1)
               + jnp.sum(w_square * _relu_moment(0, square, a, shift, nodes, weights), axis=-1))
    return (1 - density) * absent + density * present


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
    """One family of solutions: free parameters theta -> (W, b), given density p (the extra feature is last)."""

    name: str
    description: str
    build: Callable  # (theta (..., k), p (...)) -> W (..., m, n), b (..., n)
    starts: tuple = ()  # initial theta vectors; () for a configuration with no free parameter


def _stack_W(rows):
    return jnp.stack([jnp.stack(row, axis=-1) for row in rows], axis=-2)


def _fixed(W, bias_of_ignored):
    """A fixed W whose features with zero column get the optimal bias p/2, the others bias 0."""
    W = np.asarray(W, np.float64)
    ignored = np.linalg.norm(W, axis=0) == 0

    def build(theta, p):
        p = jnp.asarray(p)
        b = jnp.where(ignored, p[..., None] / 2, 0.0) if bias_of_ignored else jnp.zeros(p.shape + (W.shape[1],))
        return jnp.broadcast_to(W, p.shape + W.shape), b

    return build


def _antipodal_2_1(theta, p):
    u, v, b0, b1 = (theta[..., k] for k in range(4))
    return _stack_W([[u, -v]]), jnp.stack([b0, b1], axis=-1)


def _dedicated_antipodal_3_2(theta, p):
    u, v, b0, b1 = (theta[..., k] for k in range(4))
    one, zero = jnp.ones_like(u), jnp.zeros_like(u)
    return _stack_W([[u, -v, zero], [zero, zero, one]]), jnp.stack([b0, b1, zero], axis=-1)


def _antipodal_3_2(theta, p):
    u, v, b1, b2 = (theta[..., k] for k in range(4))
    one, zero = jnp.ones_like(u), jnp.zeros_like(u)
    return _stack_W([[one, zero, zero], [zero, u, -v]]), jnp.stack([zero, b1, b2], axis=-1)


def _triangle_3_2(theta, p):
    """Extra feature a (0, 1); the two others c (+-sin t, -cos t), mirror images (equal importance)."""
    a, c, t, b_other, b_extra = (theta[..., k] for k in range(5))
    s, k = jnp.sin(t), jnp.cos(t)
    return _stack_W([[c * s, -c * s, jnp.zeros_like(a)], [-c * k, -c * k, a]]), jnp.stack([b_other, b_other, b_extra], axis=-1)


_PAIR_STARTS = ((1.0, 1.0, 0.0, 0.0), (1.0, 1.0, -0.1, -0.1), (1.0, 0.6, -0.05, 0.0), (0.6, 1.0, 0.0, -0.05))

CANDIDATES = {
    (2, 1): (
        Candidate("ignored", "W = [1, 0]: the extra feature is dropped (bias p/2)", _fixed([[1, 0]], True)),
        Candidate("dedicated", "W = [0, 1]: the extra feature takes the dimension", _fixed([[0, 1]], True)),
        Candidate("antipodal", "W = [u, -v], biases free: antipodal pair", _antipodal_2_1, _PAIR_STARTS),
    ),
    (3, 2): (
        Candidate("ignored", "features 0, 1 orthogonal, extra dropped", _fixed([[1, 0, 0], [0, 1, 0]], True)),
        Candidate("dedicated", "feature 0 and extra orthogonal, feature 1 dropped", _fixed([[1, 0, 0], [0, 0, 1]], True)),
        Candidate("dedicated_antipodal", "extra has a dimension, features 0, 1 antipodal in the other",
                  _dedicated_antipodal_3_2, _PAIR_STARTS),
        Candidate("antipodal", "feature 0 has a dimension, feature 1 and extra antipodal in the other",
                  _antipodal_3_2, _PAIR_STARTS),
        Candidate("triangle", "all three in the plane, features 0, 1 mirror images about the extra one",
                  _triangle_3_2, ((1.0, 1.0, np.pi / 3, 0.0, 0.0), (1.0, 1.0, np.pi / 3, -0.1, -0.1),
                                  (0.8, 1.0, np.pi / 4, 0.0, 0.0), (1.0, 0.8, 1.2, -0.05, 0.0))),
    ),
}


def extra_importance(n_features: int, relative):
    """Importance of features 0..n-2 is 1, the last (extra) feature `relative`: (..., n)."""
    relative = jnp.asarray(relative)
    return jnp.concatenate([jnp.ones(relative.shape + (n_features - 1,)), relative[..., None]], axis=-1)


@functools.lru_cache(maxsize=None)
def _optimiser(key: tuple, index: int, steps: int, lr: float):
    """A jitted Adam run minimising one candidate's loss for a batch of (theta, p, relative)."""
    n, _ = key
    build = CANDIDATES[key][index].build

    def loss(theta, p, relative):
        W, b = build(theta, p)
        return expected_loss(W, b, p, extra_importance(n, relative))

    optimiser = optax.adam(optax.cosine_decay_schedule(lr, steps, alpha=1e-3))

    @jax.jit
    def run(theta, p, relative):
        total = lambda t: jnp.sum(loss(t, p, relative))  # cells are independent; Adam is per coordinate

        def step(state, _):
            theta, opt_state = state
            updates, opt_state = optimiser.update(jax.grad(total)(theta), opt_state)
            return (optax.apply_updates(theta, updates), opt_state), None

        (theta, _), _ = jax.lax.scan(step, (theta, optimiser.init(theta)), None, length=steps)
        return theta, loss(theta, p, relative)

    return run


def candidate_solutions(n_features: int, n_hidden: int, density, relative, config: TheoryConfig = TheoryConfig()):
    """Optimal loss and weights of every candidate at every (density, relative) pair.

    density, relative: 1-D arrays of equal length (cells). Returns a tidy DataFrame, one row per
    cell x candidate: density, relative, candidate, loss (the model's mean-over-features loss),
    W, b (optimal weights as arrays), extra_norm, extra_superposition.
    """
    key = (n_features, n_hidden)
    if key not in CANDIDATES:
        raise ValueError(f"no theoretical candidates for n_features={n_features}, n_hidden={n_hidden}; "
                         f"available: {sorted(CANDIDATES)}")
    density = np.asarray(density, np.float64).reshape(-1)
    relative = np.asarray(relative, np.float64).reshape(-1)
    rows = []
    with jax.enable_x64(True):
        for index, candidate in enumerate(CANDIDATES[key]):
            if candidate.starts:
                starts = np.asarray(candidate.starts, np.float64)  # (S, k)
                theta0 = np.broadcast_to(starts, (len(density),) + starts.shape).reshape(-1, starts.shape[1])
                p = np.repeat(density, len(starts))
                r = np.repeat(relative, len(starts))
                theta, loss = _optimiser(key, index, config.steps, config.lr)(jnp.asarray(theta0), p, r)
                theta, loss = np.asarray(theta), np.asarray(loss).reshape(len(density), len(starts))
                best = np.nanargmin(np.where(np.isfinite(loss), loss, np.inf), axis=1)
                theta = theta.reshape(len(density), len(starts), -1)[np.arange(len(density)), best]
                loss = loss[np.arange(len(density)), best]
            else:
                theta = np.zeros((len(density), 0))
            W, b = (np.asarray(x) for x in candidate.build(jnp.asarray(theta), jnp.asarray(density)))
            loss = np.asarray(expected_loss(W, b, density, extra_importance(n_features, relative)))
            norm = metrics.feature_norms(W)[:, -1]
            sup = metrics.superposition(W)[:, -1]
            for cell in range(len(density)):
                rows.append({"density": density[cell], "relative": relative[cell], "candidate": candidate.name,
                             "loss": float(loss[cell]), "W": W[cell], "b": b[cell],
                             "extra_norm": float(norm[cell]), "extra_superposition": float(sup[cell])})
    return pd.DataFrame(rows)


def phase_diagram(n_features: int, n_hidden: int, density, relative, phase: PhaseConfig = PhaseConfig(),
                  theory: TheoryConfig = TheoryConfig()) -> pd.DataFrame:
    """The theoretical phase of the extra feature on the grid density x relative (1-D axes).

    One row per cell: density, relative, loss_<candidate> for each candidate, candidate (the
    winner, earlier candidates winning ties within `theory.tie`), loss, extra_norm,
    extra_superposition and phase (of the winner's optimum, classified like a trained model).
    """
    d, r = np.meshgrid(np.asarray(density, np.float64), np.asarray(relative, np.float64), indexing="ij")
    solutions = candidate_solutions(n_features, n_hidden, d.ravel(), r.ravel(), theory)
    names = [c.name for c in CANDIDATES[(n_features, n_hidden)]]
    losses = np.stack([solutions.loc[solutions.candidate == name, "loss"].to_numpy() for name in names], axis=1)
    best = losses.min(axis=1, keepdims=True)
    winner = np.argmax(losses <= best + theory.tie * np.abs(best), axis=1)  # first candidate within the margin
    table = pd.DataFrame({"density": d.ravel(), "relative": r.ravel()})
    for k, name in enumerate(names):
        table[f"loss_{name}"] = losses[:, k]
    by_candidate = {name: solutions[solutions.candidate == name].reset_index(drop=True) for name in names}
    chosen = pd.DataFrame([by_candidate[names[k]].iloc[cell] for cell, k in enumerate(winner)]).reset_index(drop=True)
    table["candidate"] = chosen["candidate"]
    table["loss"] = chosen["loss"].astype(float)
    table["extra_norm"] = chosen["extra_norm"].astype(float)
    table["extra_superposition"] = chosen["extra_superposition"].astype(float)
    table["phase"] = classify(table["extra_norm"], table["extra_superposition"], phase)
    return table
