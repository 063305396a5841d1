"""The k-gon phases of Chen et al. 2023 over the training-set size T: which k-gon a trained model is, the share of
each per T (the SGD census), and the Bayesian posterior's prediction from the exact losses and the LLCs.

Classification (m = 2, c features): a feature is represented when ||W_i|| > 0.5 (sweep.metrics.represented); with k
of them the model is the regular k-gon when every represented norm is within NORM_TOL of the k-gon's optimal radius
(analysis/kgon.py) and every cyclic gap between neighbouring directions within GAP_TOL of 360/k degrees; the dead
features with bias above PLUS_BIAS are its "+" features. Anything else is "other" (k = 0).

Bayesian prediction (paraphrase of Chen et al. 2023, section 4, after Watanabe): the posterior mass of the phase of a
critical point alpha at n samples is proportional to exp(-F_n(alpha)) with the local free energy
F_n(alpha) = n L(alpha) + lambda(alpha) log n + O_p(log log n); L is the paper's loss (summed over features), lambda
the LLC. `bayes_shares` keeps the two leading terms (no multiplicities, no O(1) terms) over the candidates given.
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from analysis.geometry import angular_gaps
from analysis.kgon import hessian_eigenvalues, kgon_optimum
from sweep.metrics import represented

NORM_TOL = 0.2  # relative: the k-gon radii 1, 1.17, 1.32, 1.45, 1.55 (k = 4..8) are 8-13% apart, a drift is less
GAP_TOL = 0.25  # relative to 360/k: a (k-1)-gon's gap is 360/(k-1), off by 1/(k-1) >= 14% ... and a missing
# feature leaves one gap twice as wide (+100%), so 25% tells a regular k-gon from any other arrangement of k directions
PLUS_BIAS = 0.02  # a "+" dead feature's optimal bias is 1/(2c) >= 0.0625 for c <= 8; a plain one's is <= 0


@functools.cache
def kgon_radius(k: int) -> float:
    """The optimal radius of the regular k-gon (it depends on k only: analysis/kgon.py)."""
    return kgon_optimum(k, k).radius if k >= 2 else float("nan")


def classify(W: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """(k, plus) of one model's W (2, c), b (c,): k = 0 for "other"."""
    keep = represented(W)
    k = int(keep.sum())
    if k < 3:
        return 0, 0
    norms = np.linalg.norm(W[:, keep], axis=0)
    gaps = angular_gaps(W)
    regular = np.all(np.abs(norms / kgon_radius(k) - 1) <= NORM_TOL) and \
        np.all(np.abs(gaps / (360 / k) - 1) <= GAP_TOL)
    return (k, int(np.sum(b[~keep] > PLUS_BIAS))) if regular else (0, 0)


def label(k: int, plus: int) -> str:
    return f"{k}-gon" + "+" * plus if k else "other"


def classify_models(run) -> pd.DataFrame:
    """One row per model of the run: run, model_id, seed, n_features (c), train_size (T), loss, train_loss, k, plus,
    label."""
    models = run.table.drop_duplicates(["run", "model_id"]).reset_index(drop=True)
    rows = []
    for m in models.itertuples(index=False):
        W, b = run.weights_of({"run": m.run, "model_id": m.model_id})
        k, plus = classify(W, b)
        rows.append(dict(run=m.run, model_id=m.model_id, seed=m.seed, c=int(m.n_features), T=int(m.train_size),
                         loss=m.loss, train_loss=m.train_loss, k=k, plus=plus, label=label(k, plus)))
    return pd.DataFrame(rows)


@functools.cache
def phase_theory(k: int, c: int, plus: int) -> tuple[float, float]:
    """(L, lambda) of the k-gon among c features with `plus` "+" dead features: L the exact optimum's loss (the paper's
    normalisation), lambda = rank / 2 of its Hessian for k >= 5 (minimally singular, docs/experiments/kgons.md) and
    11/2 + 3/2 per "+" feature for k = 4 (the kink argument there; each "+" feature adds three quadratic directions,
    as it does for k >= 5: 5+ has 17/2 = 7 + 3/2 at c = 6)."""
    opt = kgon_optimum(k, c, plus)
    if k == 4:
        return max(opt.loss, 0.0), 5.5 + 1.5 * plus
    return opt.loss, float(np.sum(hessian_eigenvalues(opt) > 1e-8)) / 2


def candidates(c: int, ks=None) -> dict[str, tuple[float, float]]:
    """{label: (L, lambda)} of the plain k-gons and those with every dead feature "+", k = 4..c (or `ks`)."""
    out = {}
    for k in ks or range(4, c + 1):
        for plus in sorted({0, c - k}):
            out[label(k, plus)] = phase_theory(k, c, plus)
    return out


def census(models: pd.DataFrame) -> pd.DataFrame:
    """Share of the runs of each (c, T) ending in each k (0: other), with its binomial standard error."""
    counts = models.groupby(["c", "T", "k"]).size().rename("runs").reset_index()
    counts["total"] = counts.groupby(["c", "T"])["runs"].transform("sum")
    counts["share"] = counts["runs"] / counts["total"]
    counts["se"] = np.sqrt(counts["share"] * (1 - counts["share"]) / counts["total"])
    return counts


def bayes_shares(candidates: dict[str, tuple[float, float]], sizes) -> pd.DataFrame:
    """Posterior share of each candidate {name: (L, lambda)} at each n in `sizes`: softmax of -(n L + lambda log n)."""
    names = list(candidates)
    L = np.array([candidates[a][0] for a in names])
    lam = np.array([candidates[a][1] for a in names])
    n = np.asarray(sizes, float)[:, None]
    F = n * L + lam * np.log(n)
    weights = np.exp(-(F - F.min(axis=1, keepdims=True)))
    shares = weights / weights.sum(axis=1, keepdims=True)
    return pd.DataFrame(shares, columns=names).assign(T=np.asarray(sizes)).melt("T", var_name="phase", value_name="share")


def crossing(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The n > 1 where F_n(a) = F_n(b), a with the higher loss and lower lambda: n (L_a - L_b) = (l_b - l_a) log n
    (the larger root, found by fixed-point iteration n = (l_b - l_a) log n / (L_a - L_b))."""
    dL, dl = a[0] - b[0], b[1] - a[1]
    n = 1e6
    for _ in range(200):
        n = dl * np.log(n) / dL
    return float(n)
