"""Figures of a run or multirun dir: `python -m analysis.plot DIR` (also run after every sweep.run).

Every figure that applies is drawn from the saved tables and weights into DIR/figures/ as PNG
and SVG. Figures: phase (empirical beside theoretical; phase-change runs only), weights (W^T W,
bias, ||W_i|| bars coloured by superposition, per density), geometry (feature directions; m=2
only), dims_per_feature and dimensionality (>= 2 densities), loss_curves. A multirun dir holding
several shapes draws one set per shape (file names suffixed). Matplotlib is used through
Figure objects with the Agg canvas only: no pyplot, no global backend or state.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from analysis import NoRunsError, load, load_history, load_weights, model_weights
from analysis import phase as phases
from analysis.aggregate import aggregate, per_model, select_seeds
from analysis.config import SEED_RULES, AnalysisConfig, PhaseConfig
from sweep.grid import GROUP_COLUMNS
from sweep.results import write_atomically
from sweep.metrics import REPRESENTED_NORM

REFERENCE_DIMS = ((1, "1"), (3 / 4, "3/4"), (2 / 3, "2/3"), (1 / 2, "1/2"), (2 / 5, "2/5"), (3 / 8, "3/8"))
STYLE = sns.axes_style("ticks")
FIGURES_DIR = "figures"
PHASE_CELLS = "phase_cells"  # <dir>/phase_cells[_suffix].parquet: the phase comparison the figure draws


# ----------------------------------------------------------------------------- helpers


def _importance_params(table: pd.DataFrame) -> list[str]:
    return sorted(c for c in table.columns if c.startswith("importance_") and c != "importance_kind")


def varying_axes(table: pd.DataFrame) -> list[str]:
    """Grid axes other than density/sparsity/seed that take more than one value in `table`."""
    axes = [*_importance_params(table), "lr", "weight_decay"]
    return [c for c in axes if c in table.columns and table[c].nunique(dropna=True) > 1]


def _pick(values, k: int) -> list:
    """At most k of the (sorted) values, evenly spread, ends included."""
    values = list(values)
    if len(values) <= k:
        return values
    return [values[i] for i in np.unique(np.round(np.linspace(0, len(values) - 1, k)).astype(int))]


def _short(column: str) -> str:
    return {"importance_relative": "relative", "importance_decay": "decay", "importance_value": "importance",
            "weight_decay": "wd"}.get(column, column)


def _fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, (float, np.floating)) else str(value)


def _label(columns, values) -> str:
    return ", ".join(f"{_short(c)}={_fmt(v)}" for c, v in zip(columns, values))


def _with_run(table: pd.DataFrame) -> pd.DataFrame:
    """Tables from sweep.results.load_run have no `run` column: they are the run "."."""
    return table if "run" in table.columns else table.assign(run=".")


def _models(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model with the model's density (NaN where features have different densities)."""
    keys = ["run", "model_id"]
    spread = table.groupby(keys)["density"].agg(["min", "max"]).reset_index()
    models = per_model(table).merge(spread, on=keys)
    models["density"] = np.where(models["min"] == models["max"], models["min"], np.nan)
    return models.drop(columns=["min", "max"])


def title(table: pd.DataFrame) -> str:
    """What was trained, from the table's own columns (i.e. the run's config)."""
    first = table.iloc[0]
    importance = first["importance_kind"]
    for column in _importance_params(table):
        values = table[column].dropna().unique()
        if len(values) == 1:
            importance += f" {_short(column)}={_fmt(values[0])}"
    lr = ",".join(_fmt(v) for v in sorted(table["lr"].unique()))
    seeds = table["seed"].nunique()
    return (f"{first['model_kind']} n={first['n_features']} m={first['n_hidden']}, importance {importance}, "
            f"{first['distribution']} features, {first['steps']} steps x batch {first['batch_size']}, lr {lr}, "
            f"{seeds} seed{'s' if seeds > 1 else ''}")


def _density_label(density: float) -> str:
    return f"S={1 - density:.3g} (density {density:.3g})"


def _save(fig: Figure, out_dir: Path, name: str, formats) -> list[Path]:
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        paths.append(path)
    return paths


def _representatives(table: pd.DataFrame, config: AnalysisConfig):
    """The lowest-loss seed of each (density, varying axes) cell, and the facet layout (columns, rows)."""
    models = _models(select_seeds(table, "best"))
    models = models[models["used"]]
    axes = varying_axes(models)
    densities = _pick(sorted(models["density"].dropna().unique(), reverse=True), config.max_columns)
    if not densities:  # per-feature densities: one column
        densities = [np.nan]
    combos = _pick(sorted(models[axes].drop_duplicates().itertuples(index=False, name=None)), config.max_rows) if axes else [()]
    return models, axes, densities, combos


def _cell(models, axes, density, combo):
    mask = models["density"].isna() if np.isnan(density) else np.isclose(models["density"], density)
    for column, value in zip(axes, combo):
        mask &= models[column] == value
    rows = models[mask]
    return rows.iloc[0] if len(rows) else None


# ----------------------------------------------------------------------------- figures


def _phase_grid(cells: pd.DataFrame, density, relative, columns) -> np.ndarray:
    """(relative, density, k) array of cell columns; missing cells NaN."""
    grid = cells.pivot_table(index="relative", columns="density", values=list(columns), aggfunc="first")
    grid = grid.reindex(index=relative).reindex(columns=pd.MultiIndex.from_product([list(columns), density]))
    return np.stack([grid[c].to_numpy(np.float64) for c in columns], axis=-1)


def _phase_rgb(cells: pd.DataFrame, column: str, density, relative) -> np.ndarray:
    codes = cells.assign(_code=cells[column].map({p: k for k, p in enumerate(phases.PHASES)}).astype(float))
    code = _phase_grid(codes, density, relative, ["_code"])[..., 0]
    palette = np.stack([phases.PHASE_COLOURS[p] for p in phases.PHASES])
    return np.where(np.isnan(code)[..., None], 0.85, palette[np.nan_to_num(code).astype(int)])


def phase_cells(table: pd.DataFrame, config: AnalysisConfig = AnalysisConfig()):
    """The phase comparison table of a phase-change run (analysis/phase.py: compare); None if it does not apply."""
    table = _with_run(table)
    if not phases.applies(table):
        return None
    return phases.compare(table[table["importance_kind"] == "extra"], config.rule, config.phase, config.theory)


def plot_phase(cells: pd.DataFrame, table: pd.DataFrame, config: AnalysisConfig = AnalysisConfig()) -> Figure:
    """Per row of other axes: seeds averaged | best seed | the paper's theory | the optimal theory.

    Draws the table `phase_cells` computed; the theory panels' titles give the agreement of the best
    seed (the headline) and of the majority of seeds with that theory.
    """
    n, m = int(table["n_features"].iloc[0]), int(table["n_hidden"].iloc[0])
    others = [c for c in ("lr", "weight_decay") if cells[c].nunique() > 1]
    density, relative = np.sort(cells["density"].unique()), np.sort(cells["relative"].unique())
    combos = sorted(cells[others].drop_duplicates().itertuples(index=False, name=None)) if others else [()]
    fig = Figure(figsize=(17, 4.3 * len(combos) + 1.0))
    x_edges, y_edges = _edges(density), _edges(relative)
    ranked_by = "exact expected loss" if (cells["ranked_by"] == "exact_loss").all() else "evaluated loss"
    with matplotlib.rc_context(STYLE):
        for row, combo in enumerate(combos):
            cell = cells
            for column, value in zip(others, combo):
                cell = cell[cell[column] == value]
            mean_rgb = _phase_grid(cell, density, relative, phases.COLOUR_COLUMNS)
            suffix = f" ({_label(others, combo)})" if others else ""

            def versus(theory):
                return (f"best seed agrees on {phases.agreement(cell, theory):.1%}, "
                        f"majority on {phases.agreement(cell, theory, 'majority'):.1%}")

            panels = (
                (f"seeds averaged (mean colour, rule={config.rule}){suffix}", np.where(np.isnan(mean_rgb), 0.85, mean_rgb)),
                (f"best seed (lowest {ranked_by}){suffix}", _phase_rgb(cell, "phase", density, relative)),
                (f"paper's theory (fixed candidates, closed forms)\n{versus('paper')}",
                 _phase_rgb(cell, "phase_paper", density, relative)),
                (f"optimal theory (free norms and biases)\n{versus('optimal')}",
                 _phase_rgb(cell, "phase_optimal", density, relative)),
            )
            for k, (name, colours) in enumerate(panels):
                ax = fig.add_subplot(len(combos), len(panels), len(panels) * row + k + 1)
                ax.pcolormesh(x_edges, y_edges, colours, shading="flat", edgecolors="0.8", linewidth=0.3)
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set_xlim(x_edges[-1], x_edges[0])  # density 1 on the left, sparse on the right
                ax.set_ylim(y_edges[0], y_edges[-1])
                ax.set_xlabel("feature density 1 - S")
                if k == 0:
                    ax.set_ylabel("relative importance of the extra feature")
                ax.set_title(name, fontsize=9)
    fig.legend(handles=[Patch(facecolor=phases.PHASE_COLOURS[p], edgecolor="0.5", label=p.replace("_", " "))
                        for p in phases.PHASES], loc="lower center", ncol=3, frameon=False, bbox_to_anchor=(0.5, -0.02))
    seeds = int(cells["n_seeds"].max())
    fig.suptitle(f"Extra feature (n={n}, m={m}), {seeds} seed(s) per cell: ‖W_extra‖ > {config.phase.norm:g} represented, "
                 f"superposition > {config.phase.superposition:g}\n{title(table)}", fontsize=9, y=0.99)
    fig.subplots_adjust(bottom=0.17 / len(combos), top=1 - 0.16 / len(combos), hspace=0.45, wspace=0.12)
    return fig


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges of log-spaced centres: geometric midpoints, ends extrapolated."""
    logs = np.log(np.asarray(values, np.float64))
    if len(logs) == 1:
        return np.exp(np.array([logs[0] - 0.5, logs[0] + 0.5]))
    mid = (logs[1:] + logs[:-1]) / 2
    return np.exp(np.concatenate([[2 * logs[0] - mid[0]], mid, [2 * logs[-1] - mid[-1]]]))


def plot_weights(table: pd.DataFrame, weights: dict, config: AnalysisConfig = AnalysisConfig()):
    """Per density (columns) and other axes (rows): W^T W, the bias, and ||W_i|| bars coloured by superposition."""
    table = _with_run(table)
    n = int(table["n_features"].iloc[0])
    if n > config.max_features_heatmap:
        return None
    models, axes, densities, combos = _representatives(table, config)
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
                model = _cell(models, axes, density, combo)
                ax_gram, ax_bias, ax_bar = (fig.add_subplot(grid[r, 3 * c + k]) for k in range(3))
                if r == 0:
                    ax_gram.set_title(_density_label(density) if not np.isnan(density) else "per-feature density",
                                      fontsize=8, loc="left")
                if c == 0 and axes:
                    ax_gram.set_ylabel(_label(axes, combo), fontsize=7)
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
    fig.suptitle(f"Lowest-loss seed per cell; bars: ‖W_i‖ coloured by $\\sum_{{j\\neq i}}(\\hat W_i\\cdot W_j)^2$\n{title(table)}",
                 fontsize=9)
    return fig


def _importance_norm(importance: pd.Series):
    """Log scale for importances spanning a factor >= 3 (e.g. relative 0.1 .. 10), else linear."""
    low, high = float(importance.min()), float(importance.max())
    if low > 0 and high / low >= 3:
        return LogNorm(low, high)
    return Normalize(low, high if high > low else low + 1)


def plot_geometry(table: pd.DataFrame, weights: dict, config: AnalysisConfig = AnalysisConfig()):
    """Feature directions W_i in the plane (m=2 only), per density and other axes, coloured by importance."""
    table = _with_run(table)
    if int(table["n_hidden"].iloc[0]) != 2:
        return None
    models, axes, densities, combos = _representatives(table, config)
    cols, rows = len(densities), len(combos)
    fig = Figure(figsize=(2.2 * cols + 1.0, 2.3 * rows + 0.6))
    norm = _importance_norm(table["importance"])
    cmap = matplotlib.colormaps["viridis"]
    feature = table.set_index(["run", "model_id", "feature"]).sort_index()
    with matplotlib.rc_context(STYLE):
        for r, combo in enumerate(combos):
            for c, density in enumerate(densities):
                ax = fig.add_subplot(rows, cols, r * cols + c + 1)
                model = _cell(models, axes, density, combo)
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
                    ax.set_title(_density_label(density) if not np.isnan(density) else "per-feature density", fontsize=8)
                if c == 0 and axes:
                    ax.set_ylabel(_label(axes, combo), fontsize=7)
    fig.colorbar(ScalarMappable(norm, cmap), ax=fig.axes, fraction=0.02, pad=0.02, label="feature importance")
    fig.suptitle(f"Columns W_i of W (lowest-loss seed per cell). {title(table)}", fontsize=9)
    return fig


def _reference_lines(ax):
    for value, text in REFERENCE_DIMS:
        ax.axhline(value, color="0.6", ls=":", lw=0.8, zorder=0)
        ax.annotate(text, (1.0, value), xycoords=("axes fraction", "data"), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=7, color="0.4")


def _hue(models: pd.DataFrame, axes: list[str]):
    """A readable hue column for the varying axes (None if there are none or too many values)."""
    if not axes or models[axes].drop_duplicates().shape[0] > 8:
        return None, models
    labels = models[axes].apply(lambda row: _label(axes, row.to_numpy()), axis=1)
    return "setting", models.assign(setting=labels)


def plot_dims_per_feature(table: pd.DataFrame, config: AnalysisConfig = AnalysisConfig()):
    """m / ||W||_F^2 against 1/(1-S), every seed (points) and the rule's aggregate (line)."""
    table = _with_run(table)
    models = _models(table)
    models = models[(models["status"] == "ok") & models["density"].notna()].copy()
    if models["density"].nunique() < 2:
        return None
    models["inverse_density"] = 1 / models["density"]
    axes = varying_axes(models)
    hue, models = _hue(models, axes)
    cells = aggregate(table[table["feature"] == 0], config.rule)
    cells["inverse_density"] = 1 / cells["density"]
    hue_cells, cells = _hue(cells, axes) if hue else (None, cells)
    fig = Figure(figsize=(6.5, 4.2))
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot()
        colours = {"hue": hue, "palette": "tab10"} if hue else {"color": "0.3"}
        sns.scatterplot(data=models, x="inverse_density", y="dims_per_feature", ax=ax, s=14, alpha=0.45, legend=False,
                        **colours)
        line = {"hue": hue_cells, "palette": "tab10"} if hue else {"color": "C0", "label": f"{config.rule} over seeds"}
        sns.lineplot(data=cells.sort_values("inverse_density"), x="inverse_density", y="dims_per_feature", ax=ax,
                     marker="o", errorbar=None, **line)
        _reference_lines(ax)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.15)
        ax.set_xlabel("1 / (1 - S)   (inverse feature density)")
        ax.set_ylabel("dimensions per feature  m / ‖W‖$_F^2$")
        ax.set_title(title(table), fontsize=8)
        if ax.get_legend() is not None:
            ax.legend(fontsize=7, frameon=False)
    return fig


def plot_dimensionality(table: pd.DataFrame, config: AnalysisConfig = AnalysisConfig()):
    """Per-feature dimensionality D_i of represented features against 1/(1-S), over dims per feature."""
    table = _with_run(table)
    rows = table[(table["status"] == "ok") & table["represented"]].copy()
    if table["density"].nunique() < 2 or rows.empty or _models(table)["density"].isna().any():
        return None
    rng = np.random.default_rng(0)
    rows["inverse_density"] = np.exp(np.log(1 / rows["density"]) + rng.normal(0, 0.04, len(rows)))  # jitter
    cells = aggregate(table[table["feature"] == 0], config.rule)
    fig = Figure(figsize=(6.5, 4.2))
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot()
        sns.scatterplot(data=rows, x="inverse_density", y="dimensionality", hue="importance",
                        hue_norm=_importance_norm(rows["importance"]),
                        palette="viridis", s=10, alpha=0.6, ax=ax, linewidth=0)
        means = cells.groupby("density")["dims_per_feature"].mean()
        ax.plot(1 / means.index, means.to_numpy(), color="black", lw=1.2, label=f"dims per feature ({config.rule})")
        _reference_lines(ax)
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
    table = _with_run(table)
    if history is None or history.empty:
        return None
    history = _with_run(history)
    models = _models(table)
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


# ----------------------------------------------------------------------------- entry points


GROUP_PREFIX = {"n_features": "n", "n_hidden": "m", "batch_size": "batch", "steps": "steps"}


def _group_suffix(key: tuple, varying: list[int]) -> str:
    """File-name suffix naming the shape settings that differ between the groups of a multirun, e.g. _n5_m2."""
    return "".join(f"_{GROUP_PREFIX.get(GROUP_COLUMNS[i], '')}{key[i]}" for i in varying)


def plot_run(run_dir, config: AnalysisConfig = AnalysisConfig()) -> list[Path]:
    """Draw every figure that applies to a run or multirun dir into <dir>/figures/; returns the files written.

    A phase-change run also gets <dir>/phase_cells*.parquet: per cell the best seed's phase, the
    fraction of seeds in each phase and both theories (analysis/phase.py: compare), computed once.
    """
    root = Path(run_dir)
    table = load(root)  # NoRunsError if there is nothing to plot
    history = load_history(root)
    weights = load_weights(root)
    out = root / FIGURES_DIR
    out.mkdir(exist_ok=True)
    groups = list(table.groupby(list(GROUP_COLUMNS), sort=True, dropna=False))
    keys = [key for key, _ in groups]
    varying = [i for i in range(len(GROUP_COLUMNS)) if len({k[i] for k in keys}) > 1]
    paths = []
    for key, group in groups:
        suffix = _group_suffix(key, varying)
        group_history = history.merge(group[["run", "model_id"]].drop_duplicates(), on=["run", "model_id"])
        cells = phase_cells(group, config)
        if cells is not None:
            table_path = root / f"{PHASE_CELLS}{suffix}.parquet"
            write_atomically(table_path, lambda p, c=cells: c.to_parquet(p, index=False))
            paths += [table_path, *_save(plot_phase(cells, group, config), out, f"phase{suffix}", config.formats)]
        drawn = {
            "weights": plot_weights(group, weights, config),
            "geometry": plot_geometry(group, weights, config),
            "dims_per_feature": plot_dims_per_feature(group, config),
            "dimensionality": plot_dimensionality(group, config),
            "loss_curves": plot_loss_curves(group, group_history, config),
        }
        for name, fig in drawn.items():
            if fig is not None:
                paths += _save(fig, out, name + suffix, config.formats)
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.plot", description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="a run dir or a multirun dir (runs found recursively)")
    parser.add_argument("--rule", choices=SEED_RULES, default=AnalysisConfig.rule, help="seed aggregation (default %(default)s)")
    parser.add_argument("--norm", type=float, default=PhaseConfig.norm, help="||W_extra|| above this: represented")
    parser.add_argument("--superposition", type=float, default=PhaseConfig.superposition,
                        help="superposition of the extra feature above this: superposition phase")
    args = parser.parse_args(argv)
    try:
        config = AnalysisConfig(phase=dataclasses.replace(PhaseConfig(), norm=args.norm, superposition=args.superposition),
                                rule=args.rule)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        paths = plot_run(args.dir, config)
    except NoRunsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
