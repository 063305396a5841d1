"""Correlated and anticorrelated feature sets (the paper's section on them; docs/correlated.md): the geometry of
each set, the collapse of correlated pairs onto their principal component, checks and figures.

    python -m analysis.paper correlated            # n=4 and n=6, m=2, correlated and anticorrelated sets of 2
    python -m analysis.paper correlated_collapse   # 3 correlated pairs (n=6, m=2) over density
    python -m analysis.paper correlated_bases      # 2 correlated sets of 10 (n=20, m=10): local orthogonal bases

A pair (a, b) of a set is read from W alone (thresholds fixed here, before the full-size runs):
- *collapsed*: W_a and W_b within COLLAPSED_DEG of each other, both with norm > COLLAPSED_MIN, and the pair's
  principal component (W_a + W_b) / sqrt(2) (what the model stores for it) has norm > REPRESENTED_NORM;
- *split*: both features represented (norm > REPRESENTED_NORM) in directions more than COLLAPSED_DEG apart;
- *one*: exactly one represented (and not collapsed); *ignored*: neither.
*PCA-like*: W^T W an orthogonal projection of rank m (max |W W^T - I_m| <= PCA_TOLERANCE), as a linear
autoencoder (PCA) learns. Every check is made on the lowest-loss seed of its cell (`best_models`); measured
values are always printed.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import analysis
from analysis.checks import Fact, angular_gaps, best_models
from analysis.figure import STYLE, density_label, save, title
from sweep.metrics import REPRESENTED_NORM, dimensionality_sum, feature_norms

COLLAPSED_DEG = 20.0  # a pair this close in direction is one (collapsed) direction ...
COLLAPSED_MIN = 0.25  # ... if both features have at least this norm (else it is one feature and a stray)
ORTHOGONAL_DEG = 15.0  # "orthogonal": 90 +- this
ANTIPODAL_DEG = 20.0  # "antipodal": at least 180 - this apart
PCA_TOLERANCE = 0.2  # PCA-like: max |W W^T - I_m| at most this
LOCAL_BASIS_COS = 0.1  # a local orthogonal basis: every pair of a set within |cos| <= this
GAP_DEG = 15.0  # a hexagon: every gap between neighbouring directions 60 +- this
# The paper's collapse regimes: (lowest density, highest density, collapsed pairs); None: "PCA-like".
REGIMES = ((0.5, 1.0, None), (0.25, 0.5, 3), (0.15, 0.2, 2), (0.05, 0.15, 1), (0.0, 0.05, 0))


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


def _capacity_fact(table: pd.DataFrame, weights: dict) -> Fact:
    """sum_i D_i <= m on every trained model (Scherlis et al. 2022; computed afresh from W in float64)."""
    models = table.drop_duplicates(["run", "model_id"])
    excess = [dimensionality_sum(analysis.model_weights(weights, r, i)[0]) - m
              for r, i, m in zip(models["run"], models["model_id"], models["n_hidden"])]
    worst = float(np.max(excess))
    return Fact("every trained model: sum_i D_i <= m (capacity, Scherlis et al. 2022; 1e-9)", worst <= 1e-9,
                f"{len(excess)} models; largest sum_i D_i - m = {worst:.3g}")


def _models(table: pd.DataFrame) -> pd.DataFrame:
    return best_models(table).sort_values(["n_features", "correlation", "density"])


def _fmt(values) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


def check(directory: Path, table: pd.DataFrame) -> list[Fact]:
    """The paper's three m=2 claims, at every density of the run (lowest-loss seed of each cell)."""
    weights = analysis.load_weights(directory)
    models = _models(table)
    facts = []

    def cells(n, correlation):
        return models[(models["n_features"] == n) & (models["correlation"] == correlation)]

    def W_of(row):
        return analysis.model_weights(weights, row["run"], row["model_id"])[0]

    pairs = (("correlated", f"orthogonal (90 +- {ORTHOGONAL_DEG:g} deg)", lambda a: abs(a - 90) <= ORTHOGONAL_DEG),
             ("anticorrelated", f"antipodal (>= {180 - ANTIPODAL_DEG:g} deg)", lambda a: a >= 180 - ANTIPODAL_DEG))
    for correlation, shape, within in pairs:  # n=4: 2 sets of 2, every feature represented
        rows = cells(4, correlation)
        if len(rows):
            angles = {row["density"]: within_set_angles(W_of(row)) for _, row in rows.iterrows()}
            ok = [all(within(a) for a in v) and int(row["n_represented"]) == 4
                  for (_, row), v in zip(rows.iterrows(), angles.values())]
            facts.append(Fact(f"2 {correlation} sets of 2 (n=4): all 4 represented, the features of each set {shape}",
                              all(ok), "; ".join(f"density {d:g}: {_fmt(v)} deg" for d, v in angles.items())))
    rows = cells(6, "correlated")
    if len(rows):
        measured, ok = [], []
        for _, row in rows.iterrows():
            W = W_of(row)
            gaps = angular_gaps(W)
            hexagon = len(gaps) == 6 and bool(np.all(np.abs(gaps - 60) <= GAP_DEG))
            ok.append(hexagon and side_by_side(W))
            measured.append(f"density {row['density']:g}: gaps {_fmt(gaps)}, sets side by side {side_by_side(W)}")
        facts.append(Fact(f"3 correlated sets of 2 (n=6): a hexagon (6 directions, gaps 60 +- {GAP_DEG:g} deg) with "
                          "the features of each set side by side", all(ok), "; ".join(measured)))
    facts.append(_capacity_fact(table, weights))
    return facts


def in_regime(density: float, low: float, high: float, expected) -> bool:
    """The paper's regimes: 1-S >= 0.5 (PCA-like), <= 0.05 (none), else strictly inside (low, high); its ends are
    approximate, and 0.2-0.25 belongs to no regime."""
    if expected is None:
        return density >= low
    if expected == 0:
        return density <= high
    return low < density < high


def check_collapse(directory: Path, table: pd.DataFrame) -> list[Fact]:
    """The paper's collapse regimes, each at every density of the run inside it (lowest-loss seed)."""
    weights = analysis.load_weights(directory)
    models = _models(table)
    k = int(table["set_size"].iloc[0])
    summary = {}
    for _, row in models.iterrows():
        W = analysis.model_weights(weights, row["run"], row["model_id"])[0]
        summary[row["density"]] = (collapse_summary(W, k), projection_error(W))
    facts = []
    for low, high, expected in REGIMES:
        inside = {d: s for d, s in summary.items() if in_regime(d, low, high, expected)}
        if not inside:
            continue
        measured = "; ".join(f"density {d:g}: {s['collapsed']} collapsed ({'/'.join(s['states'])}), {s['directions']} "
                             f"directions, max|WW^T-I| {e:.2f}" for d, (s, e) in sorted(inside.items(), reverse=True))
        if expected is None:
            claim = f"1-S >= {low:g}: PCA-like (W^T W an orthogonal rank-m projection: max |W W^T - I| <= {PCA_TOLERANCE:g})"
            ok = all(e <= PCA_TOLERANCE for _, e in inside.values())
        else:
            what = {3: "all 3 sets collapsed", 2: "two sets collapsed", 1: "one set collapsed",
                    0: "none collapsed: a hexagon of 6 directions"}[expected]
            claim = f"1-S <= {high:g}: {what}" if expected == 0 else f"1-S in ({low:g}, {high:g}): {what}"
            ok = all(s["collapsed"] == expected and (expected or s["directions"] == 6) for s, _ in inside.values())
        facts.append(Fact(claim, ok, measured))
    facts.append(_capacity_fact(table, weights))
    return facts


def set_cosines(W, k: int) -> tuple[np.ndarray, np.ndarray]:
    """|cos(W_i, W_j)| of the pairs within a set and of the pairs across sets (features with norm > 0)."""
    norms = feature_norms(W)
    unit = W / np.where(norms > 0, norms, 1.0)
    cosine = np.abs(unit.T @ unit)
    same = np.arange(W.shape[1])[:, None] // k == np.arange(W.shape[1])[None, :] // k
    upper = np.triu(np.ones_like(same), 1)
    return cosine[same & upper], cosine[~same & upper]


def check_bases(directory: Path, table: pd.DataFrame) -> list[Fact]:
    """Sets of k correlated features in m = k dimensions: a local orthogonal basis per set, the sets superposed."""
    weights = analysis.load_weights(directory)
    models = _models(table)
    k = int(table["set_size"].iloc[0])
    ok, measured = [], []
    for _, row in models.iterrows():
        W = analysis.model_weights(weights, row["run"], row["model_id"])[0]
        within, across = set_cosines(W, k)
        ok.append(int(row["n_represented"]) == W.shape[1] and within.max() <= LOCAL_BASIS_COS and across.mean() > within.mean())
        measured.append(f"density {row['density']:g}: {int(row['n_represented'])} represented, within-set |cos| max "
                        f"{within.max():.3f} (mean {within.mean():.3f}), across sets mean {across.mean():.3f} "
                        f"(max {across.max():.2f})")
    n, m = int(table["n_features"].iloc[0]), int(table["n_hidden"].iloc[0])
    return [Fact(f"{n // k} correlated sets of {k} (n={n}, m={m}): every feature represented, each set a local orthogonal "
                 f"basis (within-set |cos| <= {LOCAL_BASIS_COS:g}), the sets superposed (across-set mean |cos| above "
                 "within-set)", all(ok), "; ".join(measured)),
            _capacity_fact(table, weights)]


# ----------------------------------------------------------------------------- figures

SET_COLOURS = matplotlib.colormaps["tab10"]


def draw_sets(ax, W, k: int = 2, correlation: str = "correlated") -> None:
    """Each W_i as an arrow, coloured by its set; the features of a set drawn solid, dashed, dotted..."""
    styles = ("-", "--", ":", "-.")
    for s, members in enumerate(sets_of(W.shape[1], k)):
        for j, i in enumerate(members):
            ax.plot([0, W[0, i]], [0, W[1, i]], color=SET_COLOURS(s % 10), lw=1.6, ls=styles[j % len(styles)])
            ax.scatter([W[0, i]], [W[1, i]], color=SET_COLOURS(s % 10), s=12, zorder=3)
    lim = max(0.6, float(np.abs(W).max()) * 1.15)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.axhline(0, color="0.85", lw=0.5, zorder=0)
    ax.axvline(0, color="0.85", lw=0.5, zorder=0)


def figures(directory: Path, formats=("png", "svg")) -> list[Path]:
    """`sets`: W_i of the lowest-loss seed of every (n, correlation) x density cell, coloured by set."""
    table = analysis.load(directory)
    weights = analysis.load_weights(directory)
    models = _models(table)
    groups = list(models.groupby(["n_features", "correlation", "set_size"], sort=True))
    densities = sorted(models["density"].unique(), reverse=True)
    seeds = table["seed"].nunique()
    fig = Figure(figsize=(2.0 * len(densities) + 0.8, 2.1 * len(groups) + 0.8), layout="constrained")
    with matplotlib.rc_context(STYLE):
        for r, ((n, correlation, k), rows) in enumerate(groups):
            for c, density in enumerate(densities):
                ax = fig.add_subplot(len(groups), len(densities), r * len(densities) + c + 1)
                row = rows[np.isclose(rows["density"], density)]
                if row.empty:
                    ax.set_axis_off()
                    continue
                W = analysis.model_weights(weights, row["run"].iloc[0], row["model_id"].iloc[0])[0]
                draw_sets(ax, W, int(k), correlation)
                if r == 0:
                    ax.set_title(density_label(density), fontsize=8)
                if c == 0:
                    ax.set_ylabel(f"n={n}: {n // k} {correlation}\nsets of {k}", fontsize=8)
    first = table.iloc[0]
    fig.suptitle(f"Correlated and anticorrelated feature sets, m={first['n_hidden']}: W_i of the lowest-loss of {seeds} "
                 f"seeds per cell (colour: set; line style: feature within the set). Importance 1, "
                 f"{first['steps']} steps x batch {first['batch_size']}", fontsize=9)
    out = directory / "figures"
    return save(fig, out, "sets", formats)


def collapse_figures(directory: Path, formats=("png", "svg")) -> list[Path]:
    """`collapse`: collapsed pairs and stored directions of the lowest-loss seed vs density, over the paper's
    regimes; below, the model at every density."""
    table = analysis.load(directory)
    weights = analysis.load_weights(directory)
    models = _models(table).sort_values("density", ascending=False)
    k = int(table["set_size"].iloc[0])
    rows = [(row, analysis.model_weights(weights, row["run"], row["model_id"])[0]) for _, row in models.iterrows()]
    summaries = [collapse_summary(W, k) for _, W in rows]
    density = np.array([row["density"] for row, _ in rows])
    cols = len(rows)
    fig = Figure(figsize=(max(8.0, 1.25 * cols), 5.2), layout="constrained")
    grid = fig.add_gridspec(2, cols, height_ratios=[2.2, 1])
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot(grid[0, :])
        shades = ("0.93", "white")
        for j, (low, high, expected) in enumerate(REGIMES):
            ax.axvspan(max(low, 0.007), high, color=shades[j % 2], zorder=0)
            label = "PCA-like" if expected is None else f"paper: {expected} collapsed"
            ax.text(np.sqrt(max(low, 0.007) * high), 6.3, label, ha="center", va="bottom", fontsize=7)
        ax.plot(density, [s["collapsed"] for s in summaries], "o-", color="C3", label="collapsed pairs (measured)")
        ax.plot(density, [s["directions"] for s in summaries], "s--", color="C0", label="distinct directions stored")
        ax.set_xscale("log")
        ax.set_xlim(0.007, 1.1)
        ax.set_ylim(-0.3, 7.2)
        ax.set_xlabel("feature density 1-S (log)")
        ax.set_ylabel("count (lowest-loss seed)")
        ax.legend(loc="center left", fontsize=7)
        for c, (row, W) in enumerate(rows):
            axw = fig.add_subplot(grid[1, c])
            draw_sets(axw, W, k)
            axw.set_title(f"1-S={row['density']:g}", fontsize=7)
    fig.suptitle(f"Collapse of correlated pairs onto (a+b)/√2, lowest-loss of {table['seed'].nunique()} seeds per "
                 f"density (colour: set). {title(table)}", fontsize=9)
    out = directory / "figures"
    return save(fig, out, "collapse", formats)
