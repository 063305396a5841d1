"""Figures of a run or multirun dir: `python -m analysis.plot DIR` (also run after every sweep.run).

Every figure that applies is drawn from the saved tables and weights into DIR/figures/ as PNG
and SVG: phase (seeds averaged, best seed, the paper's and the optimal theory; phase-change runs
only; analysis/plot_phase.py), weights and geometry (analysis/plot_weights.py), dims_per_feature,
dimensionality and loss_curves (analysis/plot_sparsity.py), the blog post's five diagnostics (n <= 10,
m <= 3; analysis/plot_diagnostics.py). A phase-change run's comparison table
is computed once (analysis/phase.py) and stored beside the run as phase_cells*.parquet; the figure
draws it. A multirun dir holding several shapes draws one set per shape (file names suffixed).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import pandas as pd

from analysis import NoRunsError, load, load_history, load_weights
from analysis.config import SEED_RULES, AnalysisConfig, PhaseConfig
from analysis.figure import save
from analysis.plot_diagnostics import plot_diagnostics
from analysis.plot_phase import phase_cells, plot_phase
from analysis.plot_sparsity import (
    plot_dimensionality,
    plot_dims_per_feature,
    plot_loss_curves,
)
from analysis.plot_weights import plot_geometry, plot_weights
from sweep.grid import GROUP_COLUMNS
from sweep.results import write_atomically

__all__ = ["plot_run", "shape_groups", "phase_cells", "plot_phase", "plot_weights", "plot_geometry", "plot_dims_per_feature",
           "plot_dimensionality", "plot_loss_curves", "plot_diagnostics", "main"]
FIGURES_DIR = "figures"
PHASE_CELLS = "phase_cells"  # <dir>/phase_cells[_suffix].parquet: the phase comparison the figure draws


# ----------------------------------------------------------------------------- entry points


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
    paths = []
    for suffix, group in shape_groups(table):
        group_history = history.merge(group[["run", "model_id"]].drop_duplicates(), on=["run", "model_id"])
        cells = phase_cells(group, config)
        if cells is not None:
            table_path = root / f"{PHASE_CELLS}{suffix}.parquet"
            write_atomically(table_path, lambda p, c=cells: c.to_parquet(p, index=False))
            paths += [table_path, *save(plot_phase(cells, group, config), out, f"phase{suffix}", config.formats)]
        drawn = {
            "weights": plot_weights(group, weights, config),
            "geometry": plot_geometry(group, weights, config),
            "dims_per_feature": plot_dims_per_feature(group, config),
            "dimensionality": plot_dimensionality(group, config),
            "loss_curves": plot_loss_curves(group, group_history, config),
            "diagnostics": plot_diagnostics(group, weights, config),
        }
        for name, fig in drawn.items():
            if fig is not None:
                paths += save(fig, out, name + suffix, config.formats)
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
