"""What every figure shares: titles and labels from the table's own columns, the seed each cell shows,
log-spaced cell edges, reference lines, saving. Figures themselves live in analysis/plot_*.py.

Matplotlib is used through Figure objects with the Agg canvas only: no pyplot, no global state.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from analysis.aggregate import per_model, select_seeds
from analysis.config import AnalysisConfig

REFERENCE_DIMS = ((1, "1"), (3 / 4, "3/4"), (2 / 3, "2/3"), (1 / 2, "1/2"), (2 / 5, "2/5"), (3 / 8, "3/8"))
# seaborn's "ticks" style as plain rcParams (importing seaborn, and the scipy.stats it pulls in, took about half a second
# of every drawing; docs/speed.md)
STYLE = {"figure.facecolor": "white", "axes.facecolor": "white", "axes.edgecolor": ".15", "axes.labelcolor": ".15",
         "axes.axisbelow": True, "axes.grid": False, "text.color": ".15", "xtick.color": ".15", "ytick.color": ".15",
         "xtick.direction": "out", "ytick.direction": "out", "xtick.top": False, "ytick.right": False,
         "xtick.bottom": True, "ytick.left": True, "grid.color": ".8", "grid.linestyle": "-",
         "font.family": ["sans-serif"], "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "sans-serif"],
         "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True}


def _importance_params(table: pd.DataFrame) -> list[str]:
    return sorted(c for c in table.columns if c.startswith("importance_") and c != "importance_kind")


def varying_axes(table: pd.DataFrame) -> list[str]:
    """Grid axes other than density/sparsity/seed that take more than one value in `table`."""
    axes = [*_importance_params(table), "lr", "weight_decay"]
    return [c for c in axes if c in table.columns and table[c].nunique(dropna=True) > 1]


def pick(values, k: int) -> list:
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


def axes_label(columns, values) -> str:
    return ", ".join(f"{_short(c)}={_fmt(v)}" for c, v in zip(columns, values))


def with_run(table: pd.DataFrame) -> pd.DataFrame:
    """Tables from sweep.results.load_run have no `run` column: they are the run "."."""
    return table if "run" in table.columns else table.assign(run=".")


def models_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model with the model's density (NaN where features have different densities)."""
    keys = ["run", "model_id"]
    spread = table.groupby(keys)["density"].agg(["min", "max"]).reset_index()
    models = per_model(table).merge(spread, on=keys)
    models["density"] = np.where(models["min"] == models["max"], models["min"], np.nan)
    return models.drop(columns=["min", "max"])


def _sets(first) -> str:
    """' in correlated sets of 2' etc. for a run with data.correlation (tables before it have no column)."""
    correlation = first.get("correlation", "none")
    return "" if correlation in ("none", None) or pd.isna(correlation) else f" in {correlation} sets of {first['set_size']}"


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
            f"{first['distribution']} features{_sets(first)}, {first['steps']} steps x batch {first['batch_size']}, lr {lr}, "
            f"{seeds} seed{'s' if seeds > 1 else ''}")


def density_label(density: float) -> str:
    return f"S={1 - density:.3g} (density {density:.3g})"


def save(fig: Figure, out_dir: Path, name: str, formats) -> list[Path]:
    """fig as out_dir/name.<format> for each format (out_dir is created if missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        paths.append(path)
    return paths


def representatives(table: pd.DataFrame, config: AnalysisConfig, best: pd.DataFrame | None = None):
    """The lowest-loss seed of each (density, varying axes) cell, and the facet layout (columns, rows).
    `best`: `select_seeds(table, "best")` when the caller picked the seeds already (plot_run, once per shape)."""
    models = models_table(select_seeds(table, "best") if best is None else best)
    models = models[models["used"]]
    axes = varying_axes(models)
    densities = pick(sorted(models["density"].dropna().unique(), reverse=True), config.max_columns)
    if not densities:  # per-feature densities: one column
        densities = [np.nan]
    combos = pick(sorted(models[axes].drop_duplicates().itertuples(index=False, name=None)), config.max_rows) if axes else [()]
    return models, axes, densities, combos


def shown_note(models: pd.DataFrame, densities: list) -> str:
    """'; 6 of 10 densities shown (...)' when `representatives` picked fewer columns than there are densities."""
    total = models["density"].nunique()
    return f"; {len(densities)} of {total} densities shown (AnalysisConfig.max_columns)" if len(densities) < total else ""


def cell_model(models, axes, density, combo):
    mask = models["density"].isna() if np.isnan(density) else np.isclose(models["density"], density)
    for column, value in zip(axes, combo):
        mask &= models[column] == value
    rows = models[mask]
    return rows.iloc[0] if len(rows) else None


def log_edges(values: np.ndarray) -> np.ndarray:
    """Cell edges of log-spaced centres: geometric midpoints, ends extrapolated."""
    logs = np.log(np.asarray(values, np.float64))
    if len(logs) == 1:
        return np.exp(np.array([logs[0] - 0.5, logs[0] + 0.5]))
    mid = (logs[1:] + logs[:-1]) / 2
    return np.exp(np.concatenate([[2 * logs[0] - mid[0]], mid, [2 * logs[-1] - mid[-1]]]))

def importance_norm(importance: pd.Series):
    """Log scale for importances spanning a factor >= 3 (e.g. relative 0.1 .. 10), else linear."""
    low, high = float(importance.min()), float(importance.max())
    if low > 0 and high / low >= 3:
        return LogNorm(low, high)
    return Normalize(low, high if high > low else low + 1)

def reference_lines(ax):
    for value, text in REFERENCE_DIMS:
        ax.axhline(value, color="0.6", ls=":", lw=0.8, zorder=0)
        ax.annotate(text, (1.0, value), xycoords=("axes fraction", "data"), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=7, color="0.4")
