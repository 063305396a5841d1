"""The optimal theory: the exact expected loss minimised over each candidate's free parameters.

`phase_diagram` minimises the exact expected loss (sweep/exact.py) over each candidate's free
norms, angles and biases for every (density, relative importance) cell, takes the best candidate
and classifies the extra feature of its optimum by the same rule as trained models
(analysis/phase.py). Its optimum is what trained models can reach; it is never above the paper's
closed forms (analysis/theory_paper.py), and moves the boundaries (the n=2 triple point goes from
density 4/7 to about 0.71). docs/analysis.md has the derivation and the numbers.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from analysis.classify import tied_phases
from analysis.config import PhaseConfig, TheoryConfig
from sweep import metrics
from sweep.exact import SMALL, expected_loss, feature_losses  # noqa: F401 (re-exported)

# the functions mutation testing plants bugs in (tools/mutate.py; the rest is plumbing or messages)
MUTATE_ONLY = ["ignored_feature_loss", "_fixed", "_pair", "_antipodal_2_1", "_dedicated_antipodal_3_2",
               "_antipodal_3_2", "_triangle_3_2", "extra_importance", "candidate_solutions", "phase_diagram", "_fit",
               "relax", "CANDIDATES"]


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


@functools.lru_cache(maxsize=None)
def _free(n_hidden: int, n_features: int) -> Callable:
    """theta = (W flattened, b): every parameter free (the relaxation of a candidate's optimum)."""

    def build(theta, p):
        W = theta[..., : n_hidden * n_features].reshape(theta.shape[:-1] + (n_hidden, n_features))
        return W, theta[..., n_hidden * n_features:]

    return build


def relax(W, b, density, importance, config: TheoryConfig = TheoryConfig()):
    """Every parameter of (W, b) freed and optimised further, per cell: (W, b, loss), never worse than the start.

    The candidates constrain norms, angles and biases (e.g. the triangle keeps features 0 and 1 mirror
    images, a pair stays exactly antipodal). A symmetric start stays symmetric under gradient descent,
    so besides the start itself `relax_starts` randomly perturbed copies (normal noise of scale
    `relax_noise`, a fixed seed) are optimised too, and the best is kept: this finds nearby optima that
    break the symmetry (e.g. at density 0.889, r 1.061 the best candidate's 0.032777 becomes 0.032768
    with a slightly tilted, off-axis extra feature, which a trained n=3 seed found first).
    """
    W, b = np.asarray(W, np.float64), np.asarray(b, np.float64)
    cells, m, n = W.shape
    starts = 1 + config.relax_starts
    theta0 = np.concatenate([W.reshape(cells, -1), b], axis=1)
    noise = np.random.default_rng(0).normal(0.0, config.relax_noise, (cells, starts - 1, theta0.shape[1]))
    thetas = np.concatenate([theta0[:, None], theta0[:, None] + noise], axis=1).reshape(cells * starts, -1)
    with jax.enable_x64(True):
        start = np.asarray(_jitted(expected_loss)(W, b, density, importance))
        theta, loss = _optimiser(_free(m, n), config.relax_steps, config.relax_lr)(
            jnp.asarray(thetas), jnp.asarray(np.repeat(density, starts)), jnp.asarray(np.repeat(importance, starts, axis=0)))
    theta, loss = np.asarray(theta).reshape(cells, starts, -1), np.asarray(loss).reshape(cells, starts)
    best = np.argmin(np.where(np.isfinite(loss), loss, np.inf), axis=1)
    theta, loss = theta[np.arange(cells), best], loss[np.arange(cells), best]
    better = np.isfinite(loss) & (loss < start)
    W_out = np.where(better[:, None, None], theta[:, : m * n].reshape(cells, m, n), W)
    b_out = np.where(better[:, None], theta[:, m * n:], b)
    return W_out, b_out, np.where(better, loss, start)


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
        def total(t):  # cells are independent; Adam is per coordinate
            return jnp.sum(loss(t, p, importance))

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
    winner; an earlier candidate within `theory.tie` of the best wins), relaxed_gain (how much
    freeing every parameter of the winner's optimum lowered the loss, relative; `relax`), loss, W, b,
    extra_norm, extra_superposition and phase (of that optimum, classified like a trained model).
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
    table["candidate"] = chosen["candidate"]
    W, b, loss = np.stack(chosen["W"]), np.stack(chosen["b"]), chosen["loss"].to_numpy()
    if theory.relax_steps:
        W, b, loss = relax(W, b, d.ravel(), extra_importance(n_features, r.ravel()), theory)
    table["relaxed_gain"] = 1 - loss / chosen["loss"].to_numpy()
    table["loss"], table["W"], table["b"] = loss, list(W), list(b)
    table["extra_norm"], table["extra_superposition"] = metrics.feature_norms(W)[:, -1], metrics.superposition(W)[:, -1]
    table["phase"], table["phases"] = tied_phases(W, table["relative"], phase)
    return table
