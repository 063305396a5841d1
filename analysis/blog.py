"""The seed blog post (Pramodith B., 2024, "Mechanistic Interpretability: What's Superposition?"):
each of its claims checked on every seed, and its figures (`python -m analysis.paper blog`).

The blog trains n=5, m=2 models (importance 0.9^i; signed N(0, 1) features, present with probability
1 - S): linear at S=0, ReLU at S=0.5 and S=0.9, and reads their weights. conf/experiment/blog.yaml trains
both kinds at all three sparsities with the blog's N(0, 1) values and the paper's U[0, 1] values. Every
claim is a test of one model's weights with a threshold fixed here (docs/blog.md); a claim PASSes when
more than half the seeds support it, and the count is always printed. A claim that fails is a finding
about the blog's recipe, not a broken run: `analysis.paper` does not exit 1 for it.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import analysis
from analysis.aggregate import per_model, select_seeds
from analysis.checks import Fact
from analysis.figure import save
from analysis.plot_diagnostics import draw_diagnostics, draw_vectors
from sweep.metrics import REPRESENTED_NORM, feature_norms, interference

# Thresholds, fixed before the full-size run.
NEAR_ZERO = 0.1  # "near 0" for a norm, a bias, an interference score; also: a feature below it has no direction
ORTHOGONAL_DEG = 10.0  # "orthogonal": 90 +- this
SAME_LINE_DEG = 15.0  # two features on one line through the origin (same or opposite direction)
UNIQUE_DEG = 20.0  # "unique directions": every pair of features at least this far apart
RANK_TOLERANCE = 0.02  # "ranked by importance": no norm above the previous feature's by more than this
POSITIVE = 0.05  # an interference score above this is "positive"
DISCARDS = 0.9  # "the ReLU discards" interference: it zeroes at least this share of it (squared)
SAMPLES = 8192  # data drawn to measure what the ReLU discards

DATA = {"normal": "N(0,1) data, the blog's", "uniform": "U[0,1] data, the paper's"}
SHORT = {"normal": "N(0,1) data", "uniform": "U[0,1] data"}
MODELS = (("linear", 0.0), ("relu", 0.5), ("relu", 0.9))  # the blog's three models


@dataclass
class Model:
    W: np.ndarray  # (m, n)
    b: np.ndarray  # (n,)
    x: np.ndarray  # (SAMPLES, n) data of the model's density and distribution
    peers: dict  # {(kind, sparsity): [W of every seed]} of the same distribution


Result = tuple[bool, dict]  # (supports the claim, named measurements)


def _angle(u, v) -> float:
    cosine = float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))


def lines(W, threshold: float = NEAR_ZERO) -> list[list[int]]:
    """Features with a direction (norm > threshold) grouped by the line through the origin they lie on."""
    groups: list[list[int]] = []
    for i in np.flatnonzero(feature_norms(W) > threshold):
        for group in groups:
            angle = _angle(W[:, group[0]], W[:, i])
            if min(angle, 180 - angle) <= SAME_LINE_DEG:
                group.append(int(i))
                break
        else:
            groups.append([int(i)])
    return groups


def mean_abs_cosine(W) -> float:
    """Mean |cos| over pairs of represented features (0 with fewer than two)."""
    keep = np.flatnonzero(feature_norms(W) > REPRESENTED_NORM)
    if len(keep) < 2:
        return 0.0
    unit = W[:, keep] / feature_norms(W)[keep]
    cosine = np.abs(unit.T @ unit)
    return float(cosine[np.triu_indices(len(keep), 1)].mean())


def relu_discarded(W, b, x) -> float:
    """Share of the squared pre-activation on features that are off (x_i = 0) that the ReLU zeroes."""
    h = x @ W.T @ W + b
    pre = h[x == 0]
    total = float((pre**2).sum())
    return 1.0 - float((np.maximum(pre, 0) ** 2).sum()) / total if total > 0 else 1.0


# ----------------------------------------------------------------------------- one test per claim


def pca_pair(m: Model) -> Result:
    norms = feature_norms(m.W)
    angle = _angle(m.W[:, 0], m.W[:, 1])
    return abs(angle - 90) <= ORTHOGONAL_DEG and bool((norms[:2] > REPRESENTED_NORM).all()), {
        "angle(W_0, W_1)": angle, "norms 0, 1 min": float(norms[:2].min())}


def rest_near_zero(m: Model) -> Result:
    largest = float(feature_norms(m.W)[2:].max())
    return largest < NEAR_ZERO, {"largest norm of 2..4": largest}


def like_pca(m: Model) -> Result:
    projection = np.diag((np.arange(m.W.shape[1]) < 2).astype(float))
    deviation = float(np.abs(m.W.T @ m.W - projection).max())
    return deviation < NEAR_ZERO, {"max |W^T W - diag(1,1,0,0,0)|": deviation}


def bias_near_zero(m: Model) -> Result:
    largest = float(np.abs(m.b).max())
    return largest < NEAR_ZERO, {"max |b_i|": largest}


def interference_near_zero(m: Model) -> Result:
    largest = float(np.abs(interference(m.W)).max())
    return largest < NEAR_ZERO, {"max |interference|": largest}


def all_represented(m: Model) -> Result:
    norms = feature_norms(m.W)
    count = int((norms > REPRESENTED_NORM).sum())
    return count == len(norms), {"represented": count, "min norm": float(norms.min())}


def ranked_by_importance(m: Model) -> Result:
    rise = float(np.diff(feature_norms(m.W)).max())
    return rise <= RANK_TOLERANCE, {"largest rise ||W_i+1|| - ||W_i||": rise}


def two_orthogonal_lines(m: Model) -> Result:
    groups = lines(m.W)
    sizes = sorted((len(g) for g in groups), reverse=True)
    ok = sizes == [3, 2]
    if ok:
        angle = _angle(m.W[:, groups[0][0]], m.W[:, groups[1][0]])
        ok = abs(angle - 90) <= ORTHOGONAL_DEG
    return ok, {"features per line": "+".join(map(str, sizes))}


def bias_cancels_positive_interference(m: Model) -> Result:
    """On represented features (the blog's model had every feature represented); all features reported too."""
    positive = interference(m.W) > POSITIVE
    represented = feature_norms(m.W) > REPRESENTED_NORM
    tested = positive & represented
    negative = int((m.b[tested] < 0).sum())
    return tested.any() and negative == tested.sum(), {
        "represented features with score > 0.05": int(tested.sum()), "those with b < 0": negative,
        "any features with score > 0.05": int(positive.sum()), "any with b < 0": int((m.b[positive] < 0).sum())}


def unique_directions(m: Model) -> Result:
    keep = np.flatnonzero(feature_norms(m.W) > NEAR_ZERO)
    angles = [_angle(m.W[:, i], m.W[:, j]) for k, i in enumerate(keep) for j in keep[k + 1:]]
    smallest = min(angles) if angles else 0.0
    return len(keep) == m.W.shape[1] and smallest >= UNIQUE_DEG, {
        "features with norm > 0.1": len(keep), "smallest angle": smallest}


def less_orthogonal(m: Model) -> Result:
    reference = float(np.median([mean_abs_cosine(W) for W in m.peers[("relu", 0.5)]]))
    value = mean_abs_cosine(m.W)
    return value > reference, {"mean |cos|": value, "S=0.5 median": reference}


def negative_interference(m: Model) -> Result:
    largest = float(interference(m.W).max())
    return largest < 0, {"largest score": largest}


def relu_discards(m: Model) -> Result:
    share = relu_discarded(m.W, m.b, m.x)
    return share >= DISCARDS, {"share discarded": share}


@dataclass
class Claim:
    kind: str
    sparsity: float
    text: str
    test: Callable[[Model], Result]


CLAIMS = (
    Claim("linear", 0.0, "features 0 and 1 orthogonal (90 +- 10 deg), norms > 0.5", pca_pair),
    Claim("linear", 0.0, "features 2-4 have norm near 0 (< 0.1)", rest_near_zero),
    Claim("linear", 0.0, "'very similar to PCA': W^T W within 0.1 of diag(1,1,0,0,0)", like_pca),
    Claim("linear", 0.0, "bias near 0 (|b_i| < 0.1)", bias_near_zero),
    Claim("linear", 0.0, "interference near 0 (|score| < 0.1)", interference_near_zero),
    Claim("relu", 0.5, "all 5 features represented (norm > 0.5)", all_represented),
    Claim("relu", 0.5, "norms ranked by importance (no rise > 0.02)", ranked_by_importance),
    Claim("relu", 0.5, "in 2 directions: 3 features on one line, 2 on the orthogonal one (norm > 0.1; 15 deg)",
          two_orthogonal_lines),
    Claim("relu", 0.5, "bias cancels positive interference: b_i < 0 wherever score > 0.05 (represented features)",
          bias_cancels_positive_interference),
    Claim("relu", 0.9, "all 5 features represented (norm > 0.5)", all_represented),
    Claim("relu", 0.9, "in unique directions: 5 features with norm > 0.1, every pair >= 20 deg apart", unique_directions),
    Claim("relu", 0.9, "less orthogonal: mean |cos| of represented pairs above the S=0.5 median", less_orthogonal),
    Claim("relu", 0.9, "interference is negative: every score < 0", negative_interference),
    Claim("relu", 0.9, "the ReLU discards it: zeroes >= 90% of the squared pre-activation of features that are off",
          relu_discards),
)


def sample(density: float, distribution: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """The training distribution: present with probability `density`, then N(0, 1) or U[0, 1]."""
    present = rng.random((SAMPLES, n)) < density
    values = rng.standard_normal((SAMPLES, n)) if distribution == "normal" else rng.random((SAMPLES, n))
    return np.where(present, values, 0.0)


def _summary(values: list) -> str:
    if isinstance(values[0], str):
        return ", ".join(f"{v} x{c}" for v, c in Counter(values).most_common())
    low, high = min(values), max(values)
    fmt = (lambda v: f"{v:.0f}") if all(float(v).is_integer() for v in values) else (lambda v: f"{v:.3g}")
    return fmt(low) if low == high else f"{fmt(low)} .. {fmt(high)}"


def _models(table: pd.DataFrame) -> pd.DataFrame:
    return per_model(table).sort_values(["distribution", "model_kind", "sparsity", "seed"])


def check(directory: Path, table: pd.DataFrame) -> list[Fact]:
    """Every claim on every seed, for each distribution in the run (the blog's N(0,1) first)."""
    weights = analysis.load_weights(directory)
    models = _models(table)
    n = int(table["n_features"].iloc[0])
    facts = []
    for distribution in sorted(models["distribution"].unique(), key=list(DATA).index):
        rows = models[models["distribution"] == distribution]
        W_of = {(k, s): [analysis.model_weights(weights, r, i)[0] for r, i in zip(g["run"], g["model_id"])]
                for (k, s), g in rows.groupby(["model_kind", "sparsity"])}
        for claim in CLAIMS:
            cell = rows[(rows["model_kind"] == claim.kind) & np.isclose(rows["sparsity"], claim.sparsity)]
            if cell.empty:
                continue
            x = sample(1 - claim.sparsity, distribution, n, np.random.default_rng(0))
            results = [claim.test(Model(*analysis.model_weights(weights, r, i), x, W_of))
                       for r, i in zip(cell["run"], cell["model_id"])]
            support = sum(ok for ok, _ in results)
            measured = "; ".join(f"{name} {_summary([v[name] for _, v in results])}" for name in results[0][1])
            facts.append(Fact(f"[{DATA[distribution]}] {claim.kind} S={claim.sparsity:g}: {claim.text}",
                              support > len(results) / 2, f"{support}/{len(results)} seeds; {measured}"))
    return facts


# ----------------------------------------------------------------------------- figures


def _label(kind: str, sparsity: float, distribution: str) -> str:
    return f"{'ReLU' if kind == 'relu' else 'linear'}, S={sparsity:g}, {SHORT[distribution]}"


def figures(directory: Path, formats=("png", "svg")) -> list[Path]:
    """`reproduced`: the five diagnostics of the lowest-loss seed of each of the blog's three models, for
    each distribution; `seeds`: the feature vectors of every seed of those models."""
    table = analysis.load(directory)
    weights = analysis.load_weights(directory)
    best = per_model(select_seeds(table, "best").query("used"))
    models = _models(table)
    distributions = sorted(models["distribution"].unique(), key=list(DATA).index)
    cells = [(d, k, s) for d in distributions for k, s in MODELS
             if ((models["distribution"] == d) & (models["model_kind"] == k) & np.isclose(models["sparsity"], s)).any()]
    rows = []
    for d, k, s in cells:
        row = best[(best["distribution"] == d) & (best["model_kind"] == k) & np.isclose(best["sparsity"], s)].iloc[0]
        rows.append((f"{_label(k, s, d)}: seed {row['seed']} (lowest loss)",
                     *analysis.model_weights(weights, row["run"], row["model_id"])))
    first = table.iloc[0]
    recipe = (f"n={first['n_features']}, m={first['n_hidden']}, importance 0.9^i, AdamW lr {first['lr']:g}, wd "
              f"{first['weight_decay']:g}, {first['schedule']} lr, {first['steps']} steps x batch {first['batch_size']}")
    out = directory / "figures"
    paths = save(draw_diagnostics(rows, f"The blog post's three models and diagnostics ({recipe})"), out, "reproduced",
                 formats)
    seeds = sorted(models["seed"].unique())
    fig = Figure(figsize=(1.6 * len(seeds) + 0.5, 1.7 * len(cells) + 0.6), layout="constrained")
    for r, (d, k, s) in enumerate(cells):
        cell = models[(models["distribution"] == d) & (models["model_kind"] == k) & np.isclose(models["sparsity"], s)]
        for c, (_, row) in enumerate(cell.iterrows()):
            ax = fig.add_subplot(len(cells), len(seeds), r * len(seeds) + c + 1)
            W, _ = analysis.model_weights(weights, row["run"], row["model_id"])
            draw_vectors(ax, W, legend=False)
            ax.set_xlabel("")
            ax.set_ylabel(_label(k, s, d).replace(", ", "\n", 1) if c == 0 else "", fontsize=6)
            ax.set_title(f"seed {row['seed']}: {int((feature_norms(W) > REPRESENTED_NORM).sum())} repr.", fontsize=6)
    fig.suptitle(f"W_i of every seed (point size: norm; colours: feature 0..4 as in 'reproduced'). {recipe}",
                 fontsize=8)
    return paths + save(fig, out, "seeds", formats)
