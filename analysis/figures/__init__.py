"""Generic figures of a run or multirun dir (`python -m analysis.plot DIR`, analysis/plot.py; also drawn after every
sweep.run by the Hydra callback, analysis/callbacks.py, all but ON_REQUEST).

Every figure that applies is drawn from the saved tables and weights into DIR/figures/ as PNG
and SVG: phase (seeds averaged, best seed, the paper's and the optimal theory; phase-change runs
only; figures/plot_phase.py), weights and geometry (figures/plot_weights.py), dims_per_feature,
dimensionality and loss_curves (figures/plot_sparsity.py), the blog post's five diagnostics (n <= 10,
m <= 3; figures/plot_diagnostics.py). A phase-change run's comparison table
is computed once (analysis/phase.py) and stored beside the run as phase_cells*.parquet; the figure
draws it. A multirun dir holding several shapes draws one set per shape (file names suffixed).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.aggregate import select_seeds
from analysis.config import AnalysisConfig
from analysis.figures.common import save, with_run
from analysis.figures.plot_diagnostics import plot_diagnostics
from analysis.figures.plot_phase import phase_cells, plot_phase
from analysis.figures.plot_sparsity import (
    plot_dimensionality,
    plot_dims_per_feature,
    plot_loss_curves,
)
from analysis.figures.plot_weights import plot_geometry, plot_weights
from analysis.phase import PHASE_CELLS
from analysis.run import Run
from sweep.grid import GROUP_COLUMNS
from sweep.results import write_atomically

__all__ = ["plot_run", "shape_groups", "phase_cells", "plot_phase", "plot_weights", "plot_geometry", "plot_dims_per_feature",
           "plot_dimensionality", "plot_loss_curves", "plot_diagnostics", "FIGURES_DIR", "ON_REQUEST", "PHASE_CELLS"]
FIGURES_DIR = "figures"
# drawn by `python -m analysis.plot DIR`, not after every sweep.run (analysis/callbacks.py): the diagnostics' 30 panels
# of text took 2 of the 4 s of drawing a default run (docs/speed.md)
ON_REQUEST = ("diagnostics",)


GROUP_PREFIX = {"n_features": "n", "n_hidden": "m", "batch_size": "batch", "steps": "steps", "set_size": "sets"}


def _group_suffix(key: tuple, varying: list[int], columns=GROUP_COLUMNS) -> str:
    """File-name suffix naming the shape settings that differ between the groups of a multirun, e.g. _n5_m2."""
    return "".join(f"_{GROUP_PREFIX.get(columns[i], '')}{key[i]}" for i in varying)


def shape_groups(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(file-name suffix, rows) per shape of a run or multirun table; the suffix is "" for a single shape."""
    columns = [c for c in GROUP_COLUMNS if c in table.columns]  # tables written before a group column lack it
    groups = list(table.groupby(columns, sort=True, dropna=False))
    keys = [key for key, _ in groups]
    varying = [i for i in range(len(columns)) if len({k[i] for k in keys}) > 1]
    return [(_group_suffix(key, varying, columns), group) for key, group in groups]


def plot_run(run_dir, config: AnalysisConfig = AnalysisConfig(), skip=()) -> list[Path]:
    """Draw every figure that applies to a run or multirun dir (or a `Run` already read) into <dir>/figures/, but those
    named in `skip` (e.g. ON_REQUEST); returns the files written.

    A phase-change run also gets <dir>/phase_cells*.parquet: per cell the best seed's phase, the
    fraction of seeds in each phase and both theories (analysis/phase.py: compare), computed once.
    """
    run = run_dir if isinstance(run_dir, Run) else Run(run_dir)
    root = run.directory
    table = run.table  # NoRunsError if there is nothing to plot
    history = run.history
    weights = run.weights
    out = root / FIGURES_DIR
    out.mkdir(exist_ok=True)
    paths = []
    for suffix, group in shape_groups(table):
        group_history = history.merge(group[["run", "model_id"]].drop_duplicates(), on=["run", "model_id"])
        cells = phase_cells(group, config)
        if cells is not None:
            table_path = root / f"{PHASE_CELLS}{suffix}.parquet"
            write_atomically(table_path, lambda p, c=cells: c.to_parquet(p, index=False))
            paths += [table_path, *save(plot_phase(cells, group, config), out, f"phase{suffix}", config.formats)]
        group = with_run(group)
        best, marked = select_seeds(group, "best"), select_seeds(group, config.rule)  # picked once for every figure
        drawers = {
            "weights": lambda: plot_weights(group, weights, config, best),
            "geometry": lambda: plot_geometry(group, weights, config, best),
            "dims_per_feature": lambda: plot_dims_per_feature(group, config, marked),
            "dimensionality": lambda: plot_dimensionality(group, config, marked),
            "loss_curves": lambda: plot_loss_curves(group, group_history, config),
            "diagnostics": lambda: plot_diagnostics(group, weights, config, best),
        }
        for name, draw in drawers.items():
            fig = None if name in skip else draw()
            if fig is not None:
                paths += save(fig, out, name + suffix, config.formats)
    return paths
