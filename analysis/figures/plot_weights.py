"""The weight figures of the lowest-loss seed per cell: W^T W with the bias and norm bars, and the
2-D feature geometry (m = 2)."""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from analysis import model_weights
from analysis.config import AnalysisConfig
from analysis.figures.common import (
    STYLE,
    axes_label,
    cell_model,
    density_label,
    importance_norm,
    representatives,
    shown_note,
    title,
    with_run,
)


def plot_weights(table: pd.DataFrame, weights: dict, config: AnalysisConfig = AnalysisConfig(), best=None):
    """Per density (columns) and other axes (rows): W^T W, the bias, and ||W_i|| bars coloured by superposition.
    None for model.kind=abs (untied: W^T W is not its map; its figure is analysis/figures/neurons.py's)."""
    table = with_run(table)
    n = int(table["n_features"].iloc[0])
    if n > config.max_features_heatmap or (table["model_kind"] == "abs").any():
        return None
    models, axes, densities, combos = representatives(table, config, best)
    cols, rows = len(densities), len(combos)
    fig = Figure(figsize=(cols * (1.4 + 0.09 * n) + 1.4, rows * (1.1 + 0.07 * n) + 1.5))
    grid = fig.add_gridspec(rows, 3 * cols, width_ratios=[n, 1, 0.8 * n] * cols, wspace=0.12, hspace=0.35,
                            left=0.04, right=0.86, top=1 - 0.95 / fig.get_figheight(), bottom=0.5 / fig.get_figheight())
    gram_cmap, sup_cmap = matplotlib.colormaps["RdBu_r"], matplotlib.colormaps["inferno"]
    gram_norm, sup_norm = Normalize(-1, 1), Normalize(0, 1)
    feature = table.set_index(["run", "model_id", "feature"]).sort_index()
    with matplotlib.rc_context(STYLE):
        for r, combo in enumerate(combos):
            for c, density in enumerate(densities):
                model = cell_model(models, axes, density, combo)
                ax_gram, ax_bias, ax_bar = (fig.add_subplot(grid[r, 3 * c + k]) for k in range(3))
                if r == 0:
                    ax_gram.set_title(density_label(density) if not np.isnan(density) else "per-feature density",
                                      fontsize=8, loc="left")
                if c == 0 and axes:
                    ax_gram.set_ylabel(axes_label(axes, combo), fontsize=7)
                if r == rows - 1:
                    for ax, name in ((ax_gram, "W$^T$W"), (ax_bias, "b"), (ax_bar, "‖W$_i$‖")):
                        ax.set_xlabel(name, fontsize=7)
                if model is None:
                    for ax in (ax_gram, ax_bias, ax_bar):
                        ax.set_xticks([])
                        ax.set_yticks([])
                    ax_gram.text(0.5, 0.5, "no model", ha="center", va="center", fontsize=7, transform=ax_gram.transAxes)
                    continue
                W, b = model_weights(weights, model["run"], model["model_id"])
                rows_ = feature.loc[(model["run"], model["model_id"])].sort_index()
                ax_gram.imshow(W.T @ W, cmap=gram_cmap, norm=gram_norm, aspect="auto")
                ax_bias.imshow(b[:, None], cmap=gram_cmap, norm=gram_norm, aspect="auto")
                ax_bar.barh(np.arange(n), rows_["norm"], height=0.8,
                            color=sup_cmap(sup_norm(rows_["superposition"].clip(0, 1).to_numpy())))
                ax_bar.set_ylim(n - 0.5, -0.5)
                ax_bar.set_xlim(0, max(1.0, float(rows_["norm"].max()) * 1.05))
                for ax in (ax_gram, ax_bias, ax_bar):
                    ax.set_yticks([])
                for ax in (ax_gram, ax_bias):
                    ax.set_xticks([])
                ax_bar.tick_params(labelsize=6)
    top, bottom = grid.top, grid.bottom  # colour bars within the panels' height, clear of the title
    height = 0.42 * (top - bottom)
    for k, (norm, cmap, label) in enumerate(((gram_norm, gram_cmap, "W$^T$W, b"), (sup_norm, sup_cmap, "superposition"))):
        cax = fig.add_axes((0.89, top - height - k * (top - bottom - height), 0.012, height))
        bar = fig.colorbar(ScalarMappable(norm, cmap), cax=cax)
        bar.set_label(label, fontsize=7)
        bar.ax.tick_params(labelsize=7)
    fig.suptitle(f"Lowest-loss seed per cell{shown_note(models, densities)}; bars: ‖W_i‖ coloured by "
                 f"$\\sum_{{j\\neq i}}(\\hat W_i\\cdot W_j)^2$\n{title(table)}",
                 fontsize=9)
    return fig

def plot_geometry(table: pd.DataFrame, weights: dict, config: AnalysisConfig = AnalysisConfig(), best=None):
    """Feature directions W_i in the plane (m=2 only), per density and other axes, coloured by importance."""
    table = with_run(table)
    if int(table["n_hidden"].iloc[0]) != 2:
        return None
    models, axes, densities, combos = representatives(table, config, best)
    cols, rows = len(densities), len(combos)
    fig = Figure(figsize=(2.2 * cols + 1.0, 2.3 * rows + 0.6))
    norm = importance_norm(table["importance"])
    cmap = matplotlib.colormaps["viridis"]
    feature = table.set_index(["run", "model_id", "feature"]).sort_index()
    with matplotlib.rc_context(STYLE):
        for r, combo in enumerate(combos):
            for c, density in enumerate(densities):
                ax = fig.add_subplot(rows, cols, r * cols + c + 1)
                model = cell_model(models, axes, density, combo)
                ax.set_xticks([])
                ax.set_yticks([])
                if model is None:
                    ax.set_axis_off()
                    continue
                W, _ = model_weights(weights, model["run"], model["model_id"])
                imp = feature.loc[(model["run"], model["model_id"])].sort_index()["importance"].to_numpy()
                for i in range(W.shape[1]):
                    colour = cmap(norm(imp[i]))
                    ax.plot([0, W[0, i]], [0, W[1, i]], color=colour, lw=1.5)
                    ax.scatter([W[0, i]], [W[1, i]], color=colour, s=14, zorder=3)
                lim = max(0.5, float(np.abs(W).max()) * 1.15)
                ax.set_xlim(-lim, lim)
                ax.set_ylim(-lim, lim)
                ax.set_aspect("equal")
                ax.axhline(0, color="0.85", lw=0.5, zorder=0)
                ax.axvline(0, color="0.85", lw=0.5, zorder=0)
                if r == 0:
                    ax.set_title(density_label(density) if not np.isnan(density) else "per-feature density", fontsize=8)
                if c == 0 and axes:
                    ax.set_ylabel(axes_label(axes, combo), fontsize=7)
    fig.colorbar(ScalarMappable(norm, cmap), ax=fig.axes, fraction=0.02, pad=0.02, label="feature importance")
    fig.suptitle(f"Columns W_i of W (lowest-loss seed per cell{shown_note(models, densities)}). {title(table)}", fontsize=9)
    return fig
