"""Figures along the sparsity axis: dimensions per feature, per-feature dimensionality, loss curves."""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from analysis.aggregate import aggregate, select_seeds
from analysis.config import AnalysisConfig
from analysis.figures.common import (
    STYLE,
    axes_label,
    importance_norm,
    models_table,
    pick,
    reference_lines,
    title,
    varying_axes,
    with_run,
)
from sweep.metrics import REPRESENTED_NORM

# what each seed rule (analysis/aggregate.py: select_seeds) draws, in words
RULE_LABELS = {"paper": "mean over seeds, the worst seed dropped (the paper's rule)", "best": "lowest-loss seed",
               "mean": "mean over all seeds"}


def _hue(models: pd.DataFrame, axes: list[str]):
    """A readable hue column for the varying axes (None if there are none or too many values)."""
    if not axes or models[axes].drop_duplicates().shape[0] > 8:
        return None, models
    labels = models[axes].apply(lambda row: axes_label(axes, row.to_numpy()), axis=1)
    return "setting", models.assign(setting=labels)

def plot_dims_per_feature(table: pd.DataFrame, config: AnalysisConfig = AnalysisConfig(), marked=None):
    """m / ||W||_F^2 against 1/(1-S), every seed (points) and the rule's aggregate (line). `marked`:
    `select_seeds(table, config.rule)` when the caller picked the seeds already (plot_run, once per shape)."""
    table = with_run(table)
    marked = select_seeds(table, config.rule) if marked is None else marked
    models = models_table(table)
    models = models[(models["status"] == "ok") & models["density"].notna()].copy()
    if models["density"].nunique() < 2:
        return None
    models["inverse_density"] = 1 / models["density"]
    axes = varying_axes(models)
    hue, models = _hue(models, axes)
    cells = aggregate(table[table["feature"] == 0], config.rule, marked[marked["feature"] == 0])
    cells["inverse_density"] = 1 / cells["density"]
    hue_cells, cells = _hue(cells, axes) if hue else (None, cells)
    fig = Figure(figsize=(6.5, 4.2))
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot()
        levels = sorted(models[hue].unique()) if hue else [None]
        for k, level in enumerate(levels):  # one colour per setting (tab10), or grey points and one line
            points = models if level is None else models[models[hue] == level]
            ax.scatter(points["inverse_density"], points["dims_per_feature"], s=14, alpha=0.45, linewidths=0,
                       color=f"C{k % 10}" if hue else "0.3")
            line = (cells if level is None else cells[cells[hue_cells] == level]).groupby("inverse_density")
            line = line["dims_per_feature"].mean()  # several cells at one density (many settings, no hue): their mean
            ax.plot(line.index, line.to_numpy(), marker="o", color=f"C{k % 10}" if hue else "C0",
                    label=level if hue else RULE_LABELS[config.rule])
        reference_lines(ax)
        if not hue:
            _norm_independent(ax, table, marked)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.15)
        ax.set_xlabel("1 / (1 - S)   (inverse feature density)")
        ax.set_ylabel("dimensions per feature  m / ‖W‖$_F^2$")
        ax.set_title(title(table), fontsize=8)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, frameon=False, loc="upper right")
    return fig


def _norm_independent(ax, table: pd.DataFrame, marked: pd.DataFrame):
    """Beside m / ||W||_F^2, which falls below m/n once norms grow above 1: the mean D_i (scale-free),
    the line m/n (the floor for unit-norm features), and the mean ||W_i||^2 written under each point."""
    rows = marked[marked["used"]].assign(norm_sq=lambda t: t["norm"] ** 2)
    cells = rows.groupby("density")[["dimensionality", "norm_sq"]].mean().sort_index(ascending=False)
    x = 1 / cells.index.to_numpy()
    m, n = int(table["n_hidden"].iloc[0]), int(table["n_features"].iloc[0])
    ax.plot(x, cells["dimensionality"], color="C1", ls="--", marker=".", lw=1, label="mean D$_i$ over features")
    ax.axhline(m / n, color="C2", ls="-.", lw=0.9, label=f"m/n = {m / n:.3g} (unit-norm features; larger norms go below)")
    every = -(-len(x) // 8)  # at most 8 numbers, the sparsest always among them
    for k in sorted(range(len(x) - 1, -1, -every)):
        ax.annotate(f"{cells['norm_sq'].iloc[k]:.2f}", (x[k], cells["dimensionality"].iloc[k]), xytext=(0, -10),
                    textcoords="offset points", ha="center", fontsize=6.5, color="C3")
    ax.plot([], [], ls="none", marker="$1.5$", color="C3", label="mean ‖W$_i$‖$^2$ (red numbers)")


def plot_dimensionality(table: pd.DataFrame, config: AnalysisConfig = AnalysisConfig(), marked=None):
    """Per-feature dimensionality D_i of represented features against 1/(1-S), over dims per feature (`marked`: as
    in plot_dims_per_feature)."""
    table = with_run(table)
    rows = table[(table["status"] == "ok") & table["represented"]].copy()
    if table["density"].nunique() < 2 or rows.empty or models_table(table)["density"].isna().any():
        return None
    rng = np.random.default_rng(0)
    rows["inverse_density"] = np.exp(np.log(1 / rows["density"]) + rng.normal(0, 0.04, len(rows)))  # jitter
    marked = select_seeds(table, config.rule) if marked is None else marked
    cells = aggregate(table[table["feature"] == 0], config.rule, marked[marked["feature"] == 0])
    fig = Figure(figsize=(6.5, 4.2))
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot()
        rows["importance"] = rows["importance"].astype(float).round(4)  # float32 0.9**4 reads 0.6561, not 0.6560999751
        norm, viridis = importance_norm(rows["importance"]), matplotlib.colormaps["viridis"]
        ax.scatter(rows["inverse_density"], rows["dimensionality"], c=viridis(norm(rows["importance"].to_numpy())),
                   s=10, alpha=0.6, linewidths=0)
        for value in pick(sorted(rows["importance"].unique()), 6):  # legend: at most 6 importances, ends included
            ax.scatter([], [], color=viridis(norm(value)), s=10, label=f"{value:g}")
        means = cells.groupby("density")["dims_per_feature"].mean()
        ax.plot(1 / means.index, means.to_numpy(), color="black", lw=1.2, label=f"dims per feature ({RULE_LABELS[config.rule]})")
        reference_lines(ax)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.15)
        ax.set_xlabel("1 / (1 - S)   (inverse feature density; points jittered)")
        ax.set_ylabel("feature dimensionality  D$_i$")
        ax.set_title(f"Represented features (‖W_i‖ > {REPRESENTED_NORM:g}), every seed\n"
                     f"{title(table)}", fontsize=8)
        ax.legend(fontsize=7, frameon=False, title="importance", title_fontsize=7, loc="lower left")
    return fig


def plot_loss_curves(table: pd.DataFrame, history: pd.DataFrame, config: AnalysisConfig = AnalysisConfig()):
    """Training loss against step, coloured by density; per-cell mean over seeds when there are many models."""
    table = with_run(table)
    if history is None or history.empty:
        return None
    history = with_run(history)
    models = models_table(table)
    curves = history.merge(models, on=["run", "model_id"], suffixes=("", "_final"))
    if curves.empty:
        return None
    cell_keys = ["density", *varying_axes(models)]
    many = models.shape[0] > 100
    if many:
        curves = curves.groupby([*cell_keys, "step"], dropna=False)["loss"].mean().reset_index()
        unit = cell_keys
    else:
        unit = ["run", "model_id"]
    curves = curves[curves["loss"] > 0]
    fig = Figure(figsize=(6.5, 4.2))
    density = curves["density"]
    norm = LogNorm(density.min(), density.max()) if density.notna().any() and density.max() > density.min() else None
    cmap = matplotlib.colormaps["viridis"]
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot()
        for _, curve in curves.groupby(unit, dropna=False):
            d = curve["density"].iloc[0]
            colour = cmap(norm(d)) if norm is not None and not np.isnan(d) else "C0"
            ax.plot(curve["step"], curve["loss"], color=colour, lw=0.8, alpha=0.7, marker="." if len(curve) < 3 else None)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("training loss (mean over each logged interval)")
        what = "mean over seeds per cell" if many else "one line per model"
        ax.set_title(f"Loss curves, {what}\n{title(table)}", fontsize=8)
        if norm is not None:
            fig.colorbar(ScalarMappable(norm, cmap), ax=ax, label="feature density 1 - S")
    return fig
