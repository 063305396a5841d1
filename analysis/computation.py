"""Computation in superposition (the paper's section of that name; docs/computation.md): y' = ReLU(W2 ReLU(W1 x) + b)
(model.kind=abs, untied) trained on |x|, x_i = 0 with probability S else U[-1, 1] (data.distribution=signed_uniform).

    python -m analysis.paper computation_demo   # n=3, m=6, dense: a ReLU(x_i) and a ReLU(-x_i) neuron per feature
    python -m analysis.paper computation        # n=100, m=40, importance 0.8^i, 1-S from 1 to 0.001

Per neuron, after the paper's rescaling (each hidden unit j divided by its largest |W1_ji|, W2's column j multiplied by
it; sweep/metrics.py: rescaled): feature i is *in* neuron j when |W1_ji| > IN_NEURON (0.5) there, either sign (ReLU(x_i)
or ReLU(-x_i) both carry the feature), and the neuron is alive (its largest rescaled |W2_ij| above DEAD_GAIN, 0.1; a
neuron computing ReLU(+-x_i) for |x_i| has 1). A neuron is monosemantic with one feature in it, polysemantic with two
or more. A feature is *dedicated* when it is in at least one neuron and every neuron it is in is monosemantic; it has
a *pair* when it is in exactly two neurons, both monosemantic, one with W1_ji > 0 and one with W1_ji < 0.
Every threshold below was fixed before the full-size runs; checks use the lowest-loss seed of each density, and
print their numbers whatever the verdict.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

import analysis
from analysis.checks import Fact, best_models
from analysis.figure import STYLE, save, title
from sweep.metrics import IN_NEURON, abs_neuron_features, alive_neurons, rescaled, superposition

NEAR_ZERO = 0.1  # demo: every other rescaled weight |W1_jk| of a pair's neuron is below this ("near zero")
DEMO_LOSS = 0.01  # demo: the loss is below this fraction of the best constant output's (it computes |x|)
TOP_DEDICATED = 3  # sweep: "the most important features' neurons stay monosemantic": features 0..2 (importance >= 0.64)
MAX_DROP = 2  # sweep: "increasingly polysemantic": the polysemantic neurons never fall by more than this to a sparser density
SPARSEST_POLY = 0.5  # ... and more than this fraction of the m neurons are polysemantic at the sparsest density


def neuron_summary(W1, W2) -> dict:
    """Per-neuron and per-feature counts of one model (W1 (m, n), W2 (n, m)); see the module docstring."""
    inside = abs_neuron_features(W1, W2)  # (m, n)
    alive = alive_neurons(W1, W2)
    W1r = rescaled(W1, W2)[0]
    per_neuron, per_feature = inside.sum(axis=1), inside.sum(axis=0)
    alone = inside & (per_neuron == 1)[:, None]  # feature i is the only feature of neuron j
    dedicated = (per_feature > 0) & (alone.sum(axis=0) == per_feature)
    signs = np.where(inside, np.sign(W1r), 0.0)
    pair = dedicated & (per_feature == 2) & ((signs > 0).sum(axis=0) == 1) & ((signs < 0).sum(axis=0) == 1)
    prefix = int(np.argmin(dedicated)) if not dedicated.all() else len(dedicated)
    second = np.sort(np.abs(W1r), axis=1)[:, -2] if W1r.shape[1] > 1 else np.zeros(len(W1r))  # next-largest weight
    return {"alive": int(alive.sum()), "dead": int((~alive).sum()), "per_neuron": per_neuron, "per_feature": per_feature,
            "represented": int((per_feature > 0).sum()), "monosemantic": int((per_neuron == 1).sum()),
            "polysemantic": int((per_neuron >= 2).sum()), "dedicated": dedicated, "pairs": int(pair.sum()),
            "pair": pair, "prefix": prefix, "crosstalk": float(second[alive].max()) if alive.any() else float("nan")}


def constant_loss(density: float, importance) -> float:
    """The loss of the best constant output (y = E|x|): mean_i I_i Var|x_i|, |x_i| = 0 w.p. 1-d else U[0, 1]."""
    return float(np.mean(np.asarray(importance, np.float64) * (density / 3 - density**2 / 4)))


def _weights(weights: dict, row) -> tuple[np.ndarray, np.ndarray]:
    return (analysis.model_weights(weights, row["run"], row["model_id"])[0],
            analysis.model_weights(weights, row["run"], row["model_id"], "W2")[0])


def _describe(s: dict) -> str:
    return (f"{s['alive']} alive neurons ({s['monosemantic']} monosemantic, {s['polysemantic']} polysemantic), "
            f"{s['represented']} features in neurons, {s['pairs']} with a +/- pair, {int(s['dedicated'].sum())} dedicated")


def _best(table: pd.DataFrame) -> pd.DataFrame:
    return best_models(table).sort_values("density", ascending=False)


def check_demo(directory: Path, table: pd.DataFrame) -> list[Fact]:
    """n=3, m=6, dense: every feature gets a ReLU(x_i) and a ReLU(-x_i) neuron, near zero on the others; y' = |x|."""
    from analysis.correlated import _capacity_fact

    weights = analysis.load_weights(directory)
    models, facts = _best(table), []
    m, n = int(table["n_hidden"].iloc[0]), int(table["n_features"].iloc[0])
    every = table.drop_duplicates(["run", "model_id"])
    for _, row in models.iterrows():
        s = neuron_summary(*_weights(weights, row))
        reached = sum(neuron_summary(*_weights(weights, r))["pairs"] == n for _, r in every.iterrows()
                      if np.isclose(r["density"], row["density"]))
        seeds = int(np.isclose(every["density"], row["density"]).sum())
        facts.append(Fact(f"1-S={row['density']:g}: each feature has a ReLU(x) and a ReLU(-x) neuron (in exactly two "
                          f"monosemantic neurons of opposite W1 sign), every other rescaled |W1_jk| of them < {NEAR_ZERO:g}",
                          s["pairs"] == n and s["alive"] == m == 2 * n and s["crosstalk"] < NEAR_ZERO,
                          f"{_describe(s)}; largest other weight {s['crosstalk']:.3f}; "
                          f"{reached} of {seeds} seeds have a pair for every feature"))
        baseline = constant_loss(row["density"], table[(table["run"] == row["run"]) & (table["model_id"] == row["model_id"])]
                                 .sort_values("feature")["importance"])
        facts.append(Fact(f"1-S={row['density']:g}: it computes |x| (loss < {DEMO_LOSS:.0%} of the best constant output's)",
                          row["loss"] < DEMO_LOSS * baseline, f"loss {row['loss']:.3g}, constant output {baseline:.3g} "
                                                             f"(ratio {row['loss'] / baseline:.2g})"))
    facts.append(_capacity_fact(table, weights))
    return facts


def check(directory: Path, table: pd.DataFrame) -> list[Fact]:
    """n=100, m=40 over density: monosemantic when dense, increasingly polysemantic when sparse, the most important
    features dedicated throughout, more features computed than the dense model's m/2 at the sparsest density."""
    from analysis.correlated import _capacity_fact

    weights = analysis.load_weights(directory)
    models = _best(table)
    m = int(table["n_hidden"].iloc[0])
    seeds = table["seed"].nunique()
    summary = {row["density"]: neuron_summary(*_weights(weights, row)) for _, row in models.iterrows()}
    densities = list(summary)  # densest first
    dense, sparsest = summary[densities[0]], summary[densities[-1]]
    poly = [summary[d]["polysemantic"] for d in densities]
    counts = ", ".join(f"{d:g}: {p}" for d, p in zip(densities, poly))
    facts = [
        Fact(f"1-S={densities[0]:g}: every alive neuron monosemantic (lowest-loss of {seeds} seeds)",
             dense["polysemantic"] == 0 and dense["alive"] > 0, _describe(dense)),
        Fact(f"increasingly polysemantic as S grows: polysemantic neurons never fall by more than {MAX_DROP} from one "
             f"density to the next sparser, and more than {SPARSEST_POLY:.0%} of the {m} neurons at 1-S={densities[-1]:g}",
             all(b >= a - MAX_DROP for a, b in zip(poly, poly[1:])) and sparsest["polysemantic"] > SPARSEST_POLY * m,
             f"polysemantic neurons by 1-S: {counts}"),
        Fact(f"the most important features (0..{TOP_DEDICATED - 1}) stay dedicated (every neuron they are in "
             "monosemantic) at every density",
             all(s["prefix"] >= TOP_DEDICATED for s in summary.values()),
             "leading dedicated features by 1-S: " + ", ".join(f"{d:g}: {s['prefix']}" for d, s in summary.items())),
        Fact(f"1-S={densities[-1]:g}: more features in neurons than the m/2 = {m // 2} of a model with a pair per feature "
             "(computation in superposition)", sparsest["represented"] > m / 2,
             "features in neurons by 1-S: " + ", ".join(f"{d:g}: {s['represented']}" for d, s in summary.items())),
        _capacity_fact(table, weights),
    ]
    return facts


def draw(rows: list[tuple[str, np.ndarray, np.ndarray]], heading: str) -> Figure:
    """One row per model (label, W1 (m, n), W2 (n, m)): the rescaled W1 and W2^T (neurons x features) and per neuron
    its rescaled W1 weights stacked over features (positive above the axis, negative below), coloured by the
    feature's superposition in the rescaled W1 (alive neurons only), neurons sorted by their largest feature; dead
    neurons grey."""
    m, n = rows[0][1].shape
    fig = Figure(figsize=(5.0 + 0.12 * m + 0.05 * n, 1.6 * len(rows) + 1.2), layout="constrained")
    grid = fig.add_gridspec(len(rows), 3, width_ratios=[max(n, 6), max(n, 6), 1.6 * max(m, 6)])
    w_cmap, w_norm = matplotlib.colormaps["RdBu_r"], Normalize(-1.5, 1.5)
    s_cmap = matplotlib.colormaps["inferno"]
    scaled = []
    for _, W1, W2 in rows:
        W1r, W2r = rescaled(W1, W2)
        alive = alive_neurons(W1, W2)
        main = np.argmax(np.abs(W1r), axis=1)
        order = np.lexsort((-np.sign(W1r[np.arange(m), main]), main, ~alive))  # alive first, by main feature, + then -
        sup = superposition(np.where(alive[:, None], W1r, 0.0))
        scaled.append((W1r[order], W2r[:, order], alive[order], sup))
    s_norm = Normalize(0, max(1.0, max(float(np.nanmax(s)) for *_, s in scaled)))
    top = max(float(np.clip(W1r, 0, None).sum(axis=1).max()) for W1r, *_ in scaled) * 1.05
    bottom = min(float(np.clip(W1r, None, 0).sum(axis=1).min()) for W1r, *_ in scaled) * 1.05
    heatmaps, stacks = [], []
    with matplotlib.rc_context(STYLE):
        for r, ((label, *_), (W1r, W2r, alive, sup)) in enumerate(zip(rows, scaled)):
            for c, (matrix, name) in enumerate(((W1r, "W1, rescaled"), (W2r.T, "W2$^T$, rescaled"))):
                ax = fig.add_subplot(grid[r, c])
                heatmaps.append(ax)
                ax.imshow(matrix, cmap=w_cmap, norm=w_norm, aspect="auto", interpolation="nearest")
                ax.set_yticks([])
                ax.tick_params(labelsize=6)
                ax.set_ylabel(label if c == 0 else "", fontsize=7)
                if r == 0:
                    ax.set_title(name, fontsize=7)
                if r == len(rows) - 1:
                    ax.set_xlabel("feature", fontsize=7)
                else:
                    ax.set_xticks([])
            bars = fig.add_subplot(grid[r, 2])
            stacks.append(bars)
            colour = s_cmap(s_norm(sup))
            up, down = np.zeros(m), np.zeros(m)
            for i in range(n):
                w = W1r[:, i]
                for sign, base in ((w >= 0, up), (w < 0, down)):
                    show = sign & (np.abs(w) > 0.01)  # stacked in full; slivers not drawn (keeps the SVG small)
                    if show.any():
                        bars.bar(np.flatnonzero(show), w[show], bottom=base[show], width=0.8,
                                 color=[colour[i] if alive[j] else (0.8, 0.8, 0.8, 1) for j in np.flatnonzero(show)],
                                 edgecolor="white", linewidth=0.3)
                    base[sign] += w[sign]
            bars.axhline(0, color="k", lw=0.6)
            for level in (IN_NEURON, -IN_NEURON):
                bars.axhline(level, color="0.3", lw=0.7, ls=":", zorder=5)
            bars.set_ylim(bottom, top)
            bars.set_xlim(-0.6, m - 0.4)
            bars.tick_params(labelsize=6)
            if r == 0:
                bars.set_title("per neuron: rescaled W1_ji stacked over features i", fontsize=7)
            if r == len(rows) - 1:
                bars.set_xlabel("neuron (sorted by its largest feature; grey: dead)", fontsize=7)
            else:
                bars.set_xticks([])
        for norm, cmap, axes, label in ((w_norm, w_cmap, heatmaps, "rescaled weight"),
                                        (s_norm, s_cmap, stacks, "superposition of feature i")):
            bar = fig.colorbar(ScalarMappable(norm, cmap), ax=axes, fraction=0.03, pad=0.01)
            bar.set_label(label, fontsize=7)
            bar.ax.tick_params(labelsize=6)
    fig.suptitle(heading, fontsize=8)
    return fig


def figures(directory: Path, formats=("png", "svg")) -> list[Path]:
    """`neurons`: per density (rows), the lowest-loss seed's rescaled W1, W2^T and per-neuron stacked W1 bars."""
    table = analysis.load(directory)
    weights = analysis.load_weights(directory)
    rows = [(f"1-S={row['density']:g}", *_weights(weights, row)) for _, row in _best(table).iterrows()]
    heading = (f"Computation in superposition: y' = ReLU(W2 ReLU(W1 x) + b) trained on |x|, lowest-loss of "
               f"{table['seed'].nunique()} seeds per density.\nEach neuron rescaled so its largest |W1| is 1 (W2 "
               f"inversely); dotted: +-{IN_NEURON:g} ('in the neuron').\n{title(table)}")
    return save(draw(rows, heading), directory / "figures", "neurons", formats)
