"""The phase figure: seeds averaged | best seed | the paper's theory | the optimal theory.

It draws the per-cell table that analysis/phase.py computes (`phase_cells`, stored beside the run
as phase_cells*.parquet by analysis/figures/__init__.py: plot_run); nothing is recomputed here.
"""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from analysis import phase as phases
from analysis.config import AnalysisConfig
from analysis.figures.common import STYLE, axes_label, log_edges, title, with_run


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
    table = with_run(table)
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
    x_edges, y_edges = log_edges(density), log_edges(relative)
    ranked_by = "exact expected loss" if (cells["ranked_by"] == "exact_loss").all() else "evaluated loss"
    with matplotlib.rc_context(STYLE):
        for row, combo in enumerate(combos):
            cell = cells
            for column, value in zip(others, combo):
                cell = cell[cell[column] == value]
            mean_rgb = _phase_grid(cell, density, relative, phases.COLOUR_COLUMNS)
            suffix = f" ({axes_label(others, combo)})" if others else ""

            def versus(theory):
                return (f"best seed agrees on {phases.agreement(cell, theory):.1%}, "
                        f"majority on {phases.agreement(cell, theory, 'majority'):.1%}")

            panels = (
                (f"seeds averaged (mean colour, rule={config.rule}){suffix}", np.where(np.isnan(mean_rgb), 0.85, mean_rgb), None),
                (f"best seed (lowest {ranked_by}){suffix}", _phase_rgb(cell, "phase", density, relative), None),
                (f"paper's theory (fixed candidates, closed forms)\n{versus('paper')}",
                 _phase_rgb(cell, "phase_paper", density, relative), "phases_paper"),
                (f"optimal theory (free norms and biases)\n{versus('optimal')}",
                 _phase_rgb(cell, "phase_optimal", density, relative), "phases_optimal"),
            )
            for k, (name, colours, tied) in enumerate(panels):
                ax = fig.add_subplot(len(combos), len(panels), len(panels) * row + k + 1)
                ax.pcolormesh(x_edges, y_edges, colours, shading="flat", edgecolors="0.8", linewidth=0.3)
                ties = cell[cell[tied].str.contains("|", regex=False)] if tied in cell else cell.iloc[:0]
                if len(ties):  # r = 1: mirror-image optima tie; the cell shows the first phase (phase.tied_phases)
                    ax.scatter(ties["density"], ties["relative"], marker="x", s=8, color="0.3", linewidths=0.6,
                               label="tie between relabelled features")
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
