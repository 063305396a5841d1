"""The blog post's five diagnostics of one model per row (small models: n <= 10, m <= 3).

Columns: (1) the feature vectors W_i in the hidden space, point size by ‖W_i‖, a dashed line from the
origin to each; (2) W^T W (the blog's W W^T: its W is our W transposed, one row per feature); (3) the
bias b; (4) the signed interference score Σ_{j≠i} W_i·W_j; (5) the angle between every pair W_i, W_j
in degrees (90 = orthogonal; blank for a feature of norm < 0.01, which has no direction).
`plot_diagnostics` draws the lowest-loss seed of each cell of a run;
`draw_diagnostics` draws any list of models (the blog experiment's own figures, analysis/experiments/blog.py).
"""
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
    representatives,
    title,
    with_run,
)
from sweep.metrics import feature_norms, interference, pairwise_angles

MAX_FEATURES, MAX_HIDDEN = 10, 3
NO_DIRECTION = 0.01  # a feature with a norm below this has no direction: its angles are left blank
COLUMNS = ("W$_i$ in hidden space", "W$^T$W", "bias b", "interference score Σ$_{j≠i}$ W$_i$·W$_j$",
           "angle between W$_i$ and W$_j$ (degrees)")


def _annotate(ax, values, fmt: str, fontsize: float, dark) -> None:
    """Each finite value written in its cell, white where `dark(value)` (the colour is dark), else black."""
    for (r, c), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(c, r, format(v, fmt), ha="center", va="center", fontsize=fontsize,
                    color="white" if dark(v) else "black")


def draw_vectors(ax, W, legend: bool = True) -> None:
    """W_i as points (size by norm) with a dashed line from the origin, in 2-D (m <= 2) or 3-D (m = 3)."""
    n = W.shape[1]
    norms = feature_norms(W)
    colours = matplotlib.colormaps["tab10"](np.arange(n) % 10)
    points = np.vstack([W, np.zeros((3 - W.shape[0], n))]) if W.shape[0] < 3 else W  # m=1: on the x axis
    dims = 3 if W.shape[0] == 3 else 2
    lim = max(0.5, float(np.abs(W).max()) * 1.2)
    for i in range(n):
        coords = [[0, points[d, i]] for d in range(dims)]
        ax.plot(*coords, ls="--", lw=1, color=colours[i])
        ax.scatter(*[[points[d, i]] for d in range(dims)], s=10 + 120 * norms[i], color=colours[i], zorder=3,
                   label=f"{i}")
    for setter in (ax.set_xlim, ax.set_ylim, *((ax.set_zlim,) if dims == 3 else ())):
        setter(-lim, lim)
    ax.set_xlabel("h$_1$", fontsize=7)
    ax.set_ylabel("h$_2$" if W.shape[0] > 1 else "", fontsize=7)
    if dims == 3:
        ax.set_zlabel("h$_3$", fontsize=7)
    else:
        ax.set_aspect("equal")
        ax.axhline(0, color="0.85", lw=0.5, zorder=0)
        ax.axvline(0, color="0.85", lw=0.5, zorder=0)
    ax.tick_params(labelsize=6)
    if legend:
        ax.legend(title="feature", fontsize=5, title_fontsize=6, loc="upper left",
                  bbox_to_anchor=(1.3 if dims == 3 else 1.0, 1.0),
                  markerscale=0.5, frameon=False)


def draw_diagnostics(models: list[tuple[str, np.ndarray, np.ndarray]], suptitle: str) -> Figure:
    """One row per (label, W (m, n), b (n,)), the five diagnostics as columns, shared colour scales."""
    n = models[0][1].shape[1]
    rows = len(models)
    grams = [W.T @ W for _, W, _ in models]
    scale = max(1.0, *(float(np.abs(g).max()) for g in grams), *(float(np.abs(b).max()) for _, _, b in models))
    signed, angle_norm = Normalize(-scale, scale), Normalize(0, 180)
    signed_cmap, angle_cmap = matplotlib.colormaps["RdBu_r"], matplotlib.colormaps["PuOr_r"]
    fig = Figure(figsize=(15, 2.7 * rows + 1.0), layout="constrained")
    grid = fig.add_gridspec(rows, 5, width_ratios=[1.3, 1, 0.3, 1, 1])
    font = 6 if n > 6 else 7
    by_column = [[] for _ in range(5)]
    with matplotlib.rc_context(STYLE):
        for r, ((label, W, b), gram) in enumerate(zip(models, grams)):
            ax = fig.add_subplot(grid[r, 0], projection="3d" if W.shape[0] == 3 else None)
            draw_vectors(ax, W)
            ax.set_title(label, fontsize=8, loc="left")
            ax_gram, ax_bias, ax_int, ax_angle = (fig.add_subplot(grid[r, c]) for c in range(1, 5))
            ax_gram.imshow(gram, cmap=signed_cmap, norm=signed)
            def dark_signed(v, scale=scale):
                return abs(v) > 0.6 * scale

            _annotate(ax_gram, gram, ".2f", font - 1, dark_signed)
            ax_bias.imshow(b[:, None], cmap=signed_cmap, norm=signed, aspect="auto")
            _annotate(ax_bias, b[:, None], ".2f", font - 1, dark_signed)
            score = interference(W)
            ax_int.barh(np.arange(n), score, color=np.where(score > 0, "tab:red", "tab:blue"))
            ax_int.axvline(0, color="0.3", lw=0.8)
            ax_int.set_ylim(n - 0.5, -0.5)
            ax_int.set_xlim(-max(0.1, np.abs(score).max() * 1.15), max(0.1, np.abs(score).max() * 1.15))
            angles = pairwise_angles(W)
            weak = feature_norms(W) < NO_DIRECTION
            angles[weak, :] = angles[:, weak] = np.nan
            ax_angle.imshow(angles, cmap=angle_cmap, norm=angle_norm)
            _annotate(ax_angle, angles, ".0f", font - 1, lambda v: v < 30 or v > 150)
            for ax in (ax_gram, ax_bias, ax_int, ax_angle):
                ax.set_yticks(range(n))
                ax.tick_params(labelsize=6)
                ax.set_ylabel("feature i", fontsize=7)
            for ax in (ax_gram, ax_angle):
                ax.set_xticks(range(n))
                ax.set_xlabel("feature j", fontsize=7)
            ax_bias.set_xticks([])
            ax_int.set_xlabel("interference score", fontsize=7)
            for c, ax in enumerate((ax_gram, ax_bias, ax_int, ax_angle), start=1):
                by_column[c].append(ax)
                if r == 0:
                    ax.set_title(COLUMNS[c], fontsize=8)
        fig.colorbar(ScalarMappable(signed, signed_cmap), ax=by_column[1] + by_column[2], location="bottom",
                     shrink=0.6, aspect=30).set_label("W$^T$W entry, bias (same scale)", fontsize=7)
        fig.colorbar(ScalarMappable(angle_norm, angle_cmap), ax=by_column[4], location="bottom", shrink=0.8,
                     aspect=30, ticks=[0, 45, 90, 135, 180]).set_label("angle (degrees)", fontsize=7)
    fig.suptitle(suptitle, fontsize=9)
    return fig


def plot_diagnostics(table: pd.DataFrame, weights: dict, config: AnalysisConfig | None = None, best=None):
    """The five diagnostics of the lowest-loss seed of each cell (density x other varying axes, one row each)."""
    config = config or AnalysisConfig()
    table = with_run(table)
    n, m = int(table["n_features"].iloc[0]), int(table["n_hidden"].iloc[0])
    if n > MAX_FEATURES or m > MAX_HIDDEN or (table["model_kind"] == "abs").any():  # they read the tied model's W^T W
        return None
    models, axes, densities, combos = representatives(table, config, best)
    rows = []
    for combo in combos:
        for density in densities:
            model = cell_model(models, axes, density, combo)
            if model is None:
                continue
            W, b = model_weights(weights, model["run"], model["model_id"])
            label = density_label(density) if not np.isnan(density) else "per-feature density"
            rows.append((f"{label}{', ' + axes_label(axes, combo) if axes else ''}, seed {model['seed']}", W, b))
    return draw_diagnostics(rows, f"Diagnostics of the lowest-loss seed per cell. {title(table)}")
