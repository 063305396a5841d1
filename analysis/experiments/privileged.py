"""Superposition in a privileged basis (the paper's section of that name): h = ReLU(W x), x' = ReLU(W^T h + b)
(model.kind=privileged), n=10, m=5, importance 0.75^i, over density. `python -m analysis.paper privileged`;
docs/experiments/privileged.md.

Per neuron j (a row of W), the features *in* it are those with W_ji > IN_NEURON (a positive weight: a negative
one only inhibits, the hidden ReLU keeps it from carrying the feature). A neuron is monosemantic with one feature
in it, polysemantic with two or more, dead with none; a feature is represented when it is in some neuron
(sweep/metrics.py: neuron_features). Checks on the lowest-loss seed of each density; numbers always printed.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from analysis import restarts
from analysis.experiments.claims import CAPACITY, FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.figures.common import STYLE, save, title
from analysis.figures.restarts import draw_restarts
from analysis.run import Run
from sweep.metrics import IN_NEURON, neuron_features, superposition

# Its regimes' ends are the paper's approximate claims, from 1000 seeds a density: a FAIL is a finding
PRESETS = (Preset("privileged", ("privileged", "restarts"), findings=True),)
SOURCE = f"{PAPER}, section 'Superposition in a Privileged Basis' > 'Visualizing Superposition in Terms of Neurons'"
# Every regime the paper names (1-S): (lowest, highest, what); ends shared with a neighbour belong to the neighbour
DEDICATED, EIGHT_POLY, PAIRS = "dedicated", "eight_poly", "pairs"
THREE_IN_TWO, FIVE_IN_THREE, SIX_IN_FOUR = "three_in_two", "five_in_three", "six_in_four"
REGIMES = ((0.5, 1.0, DEDICATED), (0.2, 0.5, THREE_IN_TWO), (0.15, 0.15, FIVE_IN_THREE), (0.12, 0.12, SIX_IN_FOUR),
           (0.05, 0.08, EIGHT_POLY), (0.0, 0.04, PAIRS))
# Neurons per regime: (monosemantic, polysemantic, features in neurons), as the paper counts them
COUNTS = {THREE_IN_TWO: (3, 2, 6), FIVE_IN_THREE: (2, 3, 7), SIX_IN_FOUR: (1, 4, 7), EIGHT_POLY: (0, 5, 8)}
# "In a neuron" has no threshold in the paper (it draws the weights): each verdict is also read at these, and printed
THRESHOLDS = (0.3, 0.4, 0.5, 0.6)


def neuron_summary(W, threshold: float = IN_NEURON) -> dict:
    """Per-neuron counts of the features in it (W_ji > threshold), and each feature's neurons."""
    inside = neuron_features(W, threshold)  # (m, n) bool
    per_neuron = inside.sum(axis=1)
    per_feature = inside.sum(axis=0)
    alone = (per_feature > 0) & ((inside & (per_neuron == 1)[:, None]).sum(axis=0) == per_feature)  # only mono neurons
    return {"per_neuron": per_neuron, "per_feature": per_feature, "represented": int((per_feature > 0).sum()), "alone": alone,
            "monosemantic": int((per_neuron == 1).sum()), "polysemantic": int((per_neuron >= 2).sum()),
            "dedicated": bool((per_neuron == 1).all() and (per_feature <= 1).all())}


def _describe(s: dict) -> str:
    return (f"{s['represented']} features in neurons, features per neuron {'/'.join(map(str, s['per_neuron']))}, "
            f"neurons per feature {''.join(map(str, s['per_feature']))}")


def verdict(s: dict, what: str, m: int) -> bool:
    if what == DEDICATED:  # every neuron holds one feature, no feature spread: m features, each its own neuron
        return s["dedicated"] and s["represented"] == m
    if what in COUNTS:  # e.g. "Six Features in Four Neurons": one monosemantic neuron, four polysemantic, 1 + 6 features
        mono, poly, features = COUNTS[what]
        top = bool(s["alone"][:3].all()) if what == THREE_IN_TWO else True  # "the three most important ... dedicated"
        return (s["monosemantic"], s["polysemantic"], s["represented"]) == (mono, poly, features) and top
    return bool((s["per_feature"] == 2).all())  # PAIRS: every feature in exactly two neurons


def regime(run: Run, low: float, high: float, what: str) -> Verdict | None:
    """Every density of the run inside [low, high] (lowest-loss seed): the regime's `verdict`."""
    models = run.best.sort_values("density", ascending=False)
    m = int(run.setting("n_hidden"))
    d = models["density"].to_numpy(np.float64)
    on = np.isclose(d, low, rtol=1e-6) | np.isclose(d, high, rtol=1e-6)
    rows = models[(d >= low) & (d <= high) | on if low > 0 else d <= high]
    if what == THREE_IN_TWO:  # its upper end, 0.5, is the dedicated regime's lower end
        rows = rows[~np.isclose(rows["density"].to_numpy(np.float64), high, rtol=1e-6)]
    if rows.empty:
        return None
    results = []
    for _, row in rows.iterrows():
        W = run.W(row)
        s = neuron_summary(W)
        moves = " ".join(f"{t:g}:{'PASS' if verdict(neuron_summary(W, t), what, m) else 'FAIL'}" for t in THRESHOLDS)
        results.append((row["density"], s, verdict(s, what, m), moves))
    return Verdict(all(ok for _, _, ok, _ in results),
                   "; ".join(f"density {d:g}: {_describe(s)} (verdict by threshold {moves})" for d, s, _, moves in results),
                   {"seeds": run.table["seed"].nunique()})


def _where(low: float, high: float) -> str:
    if low == high:
        return f"1-S = {low:g}"
    return f"1-S >= {low:g}" if high == 1.0 else f"1-S <= {high:g}" if low == 0 else f"1-S in [{low:g}, {high:g}]"


SAYS = {DEDICATED: ("every represented feature has a dedicated neuron (m features, one per neuron)",
                    "\"All Monosemantic Neurons (approximately 0.5 ≤ 1-S )\" ... \"In this regime, every feature gets a "
                    "dedicated neuron. That is, the model consists entirely of monosemantic neurons.\""),
        THREE_IN_TWO: ("features 0-2 on three monosemantic neurons, three more on two polysemantic ones (6 in all)",
                       "\"Three Features in Two Neurons (approximately 0.2 ≤ 1-S ≤ 0.5 )\" ... \"In this regime, the three "
                       "most important features still get dedicated neurons, but the next three are represented in a kind "
                       "of binary code by two neuron's activations.\""),
        FIVE_IN_THREE: ("two monosemantic neurons and three polysemantic ones holding five features (7 in all)",
                        "\"Five Features in Three Neurons (1-S = 0.15)\" ... \"we still see two monosemantic neurons, and "
                        "three polysemantic neurons\""),
        SIX_IN_FOUR: ("one monosemantic neuron and four polysemantic ones holding six features (7 in all)",
                      "\"Six Features in Four Neurons (1-S = 0.12)\" ... \"In this regime, we have one monosemantic "
                      "neuron. The four polysemantic neurons implement an interesting code.\""),
        EIGHT_POLY: ("eight features in the five neurons, every neuron polysemantic",
                     "\"Eight Features in Five Neurons (0.05 ≤ 1-S ≤ 0.08)\" ... \"In this regime, all neurons are "
                     "polysemantic.\""),
        PAIRS: ("every feature in a pair of neurons (each feature in exactly two)",
                "\"Features are Pairs of Neurons (1-S ≤ 0.04)\" ... \"In this regime, each feature simply correspond to a "
                "pair of neurons.\"")}
CLAIMS = (
    *(Claim(f"{_where(low, high)}: {SAYS[what][0]} (lowest-loss of {{seeds}} seeds)", SAYS[what][1], SOURCE,
            f"in a neuron: W_ji > {IN_NEURON:g} (a positive weight carries the feature through the hidden ReLU; the paper "
            f"draws the weights and states no threshold, so the verdict is also printed at {', '.join(map(str, THRESHOLDS))}); "
            "the regime's ends are the paper's approximate ones", regime, {"low": low, "high": high, "what": what})
      for low, high, what in REGIMES),
    CAPACITY,
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS) -> list[Path]:
    """`privileged`: per density (columns), the lowest-loss seed's raw W (top) and the per-neuron stacked bars
    (bottom): each feature's weight in the neuron, stacked, positive above the axis and negative below, coloured
    by the feature's superposition. `restarts`: best of k seeds and the share of seeds per neuron picture
    (analysis/restarts.py: tables beside the run)."""
    table = run.table
    restarts.write(run, lambda W: "{represented} in neurons, {polysemantic} polysemantic".format(**neuron_summary(W)))
    drawn = draw_restarts(run.directory, "neuron picture (W_ji > 0.5)", formats)
    models = run.best.sort_values("density", ascending=False)
    rows = [(row, *run.weights_of(row)) for _, row in models.iterrows()]
    m, n = rows[0][1].shape
    cols = len(rows)
    fig = Figure(figsize=(1.55 * cols + 1.2, 5.0), layout="constrained")
    grid = fig.add_gridspec(2, cols, height_ratios=[m, 2.2 * m])
    w_norm, w_cmap = Normalize(-1.5, 1.5), matplotlib.colormaps["RdBu_r"]
    s_cmap = matplotlib.colormaps["inferno"]
    s_norm = Normalize(0, max(1.0, max(float(superposition(W).max()) for _, W, _ in rows)))
    top = max(float(np.clip(W, 0, None).sum(axis=1).max()) for _, W, _ in rows) * 1.05
    bottom = min(float(np.clip(W, None, 0).sum(axis=1).min()) for _, W, _ in rows) * 1.05
    with matplotlib.rc_context(STYLE):
        for c, (row, W, _) in enumerate(rows):
            ax = fig.add_subplot(grid[0, c])
            ax.imshow(W, cmap=w_cmap, norm=w_norm, aspect="auto")
            ax.set_xticks(range(0, n, 3))
            ax.set_yticks(range(m))
            ax.tick_params(labelsize=6)
            ax.set_title(f"1-S={row['density']:g}", fontsize=8)
            if c == 0:
                ax.set_ylabel("neuron", fontsize=7)
            ax.set_xlabel("feature", fontsize=7)
            bars = fig.add_subplot(grid[1, c])
            colour = s_cmap(s_norm(superposition(W)))
            for j in range(m):
                up = down = 0.0
                for i in range(n):
                    w = float(W[j, i])
                    if w >= 0:
                        bars.bar(j, w, bottom=up, color=colour[i], edgecolor="white", linewidth=0.4, width=0.8)
                        up += w
                    else:
                        bars.bar(j, w, bottom=down, color=colour[i], edgecolor="white", linewidth=0.4, width=0.8)
                        down += w
            bars.axhline(0, color="k", lw=0.6)
            bars.axhline(IN_NEURON, color="0.3", lw=0.7, ls=":", zorder=5)
            bars.set_ylim(bottom, top)
            bars.set_xticks(range(m))
            bars.tick_params(labelsize=6)
            bars.set_xlabel("neuron", fontsize=7)
            if c == 0:
                bars.set_ylabel("W_ji stacked over features i", fontsize=7)
            else:
                bars.set_yticklabels([])
        heatmaps, stacks = fig.axes[0::2], fig.axes[1::2]
        fig.colorbar(ScalarMappable(w_norm, w_cmap), ax=heatmaps, fraction=0.02, pad=0.01, label="W_ji")
        fig.colorbar(ScalarMappable(s_norm, s_cmap), ax=stacks, fraction=0.02, pad=0.01, label="superposition of feature i")
    fig.suptitle(f"Privileged basis h = ReLU(Wx), x' = ReLU(W$^T$h + b): raw W and per-neuron stacked weights "
                 f"(dotted: the {IN_NEURON:g} threshold of 'in a neuron'), lowest-loss of "
                 f"{table['seed'].nunique()} seeds per density. {title(table)}", fontsize=9)
    return save(fig, run.directory / "figures", "privileged", formats) + drawn
