"""The neurons of an untied model y' = ReLU(W2 ReLU(W1 x) + b) (model.kind=abs), one row per model: the rescaled W1
and W2^T and, per neuron, its rescaled W1 weights stacked over features (the computation experiments)."""
from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from analysis.figures.common import STYLE, title
from analysis.neurons import best_per_density
from analysis.run import Run
from sweep.metrics import IN_NEURON, alive_neurons, rescaled, superposition


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


def neurons_figure(run: Run) -> Figure:
    """Per density (rows), the lowest-loss model's (over seeds and lrs) rescaled W1, W2^T and per-neuron stacked W1 bars."""
    table = run.table
    best = best_per_density(run)  # over seeds and lrs alike
    rows = [(f"1-S={row['density']:g}", run.W(row), run.W(row, "W2")) for _, row in best.iterrows()]
    fits = len(table.drop_duplicates(["run", "model_id"])) // max(len(best), 1)
    heading = (f"Computation in superposition: y' = ReLU(W2 ReLU(W1 x) + b) trained on |x|, lowest-loss of "
               f"{fits} fits (seeds x lrs) per density.\nEach neuron rescaled so its largest |W1| is 1 (W2 "
               f"inversely); dotted: +-{IN_NEURON:g} ('in the neuron').\n{title(table)}")
    return draw(rows, heading)
