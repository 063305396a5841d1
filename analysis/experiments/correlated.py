"""Correlated and anticorrelated feature sets in m=2 (`python -m analysis.paper correlated`: n=4 and n=6, sets of 2;
docs/experiments/correlated.md). Checks read the lowest-loss seed of each cell; measured values are always printed. The
reading of a pair (collapsed, split, ...): analysis/geometry.py.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from analysis.experiments.claims import CAPACITY, FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.figures.common import STYLE, density_label, save
from analysis.figures.sets import draw_sets
from analysis.geometry import angular_gaps, side_by_side, within_set_angles
from analysis.run import Run

PRESETS = (Preset("correlated", ("sets",)),)
SOURCE = f"{PAPER}, section 'Correlated and Anticorrelated Features' > 'Organization of Correlated and Anticorrelated Features'"
ORTHOGONAL_DEG = 15.0  # "orthogonal": 90 +- this
ANTIPODAL_DEG = 20.0  # "antipodal": at least 180 - this apart
GAP_DEG = 15.0  # a hexagon: every gap between neighbouring directions 60 +- this


def _models(run: Run):
    return run.best.sort_values(["n_features", "correlation", "density"])


def _cells(run: Run, n: int, correlation: str):
    models = _models(run)
    return models[(models["n_features"] == n) & (models["correlation"] == correlation)]


def _fmt(values) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


def pairs(run: Run, correlation: str, shape: str) -> Verdict | None:
    """n=4: 2 sets of 2, every feature represented, each set's two features at the angle `shape` names."""
    within = {"orthogonal": lambda a: abs(a - 90) <= ORTHOGONAL_DEG, "antipodal": lambda a: a >= 180 - ANTIPODAL_DEG}[shape]
    rows = _cells(run, 4, correlation)
    if not len(rows):
        return None
    angles = {row["density"]: within_set_angles(run.W(row)) for _, row in rows.iterrows()}
    ok = [all(within(a) for a in v) and int(row["n_represented"]) == 4 for (_, row), v in zip(rows.iterrows(), angles.values())]
    return Verdict(all(ok), "; ".join(f"density {d:g}: {_fmt(v)} deg" for d, v in angles.items()))


def hexagon(run: Run) -> Verdict | None:
    rows = _cells(run, 6, "correlated")
    if not len(rows):
        return None
    measured, ok = [], []
    for _, row in rows.iterrows():
        W = run.W(row)
        gaps = angular_gaps(W)
        ok.append(len(gaps) == 6 and bool(np.all(np.abs(gaps - 60) <= GAP_DEG)) and side_by_side(W))
        measured.append(f"density {row['density']:g}: gaps {_fmt(gaps)}, sets side by side {side_by_side(W)}")
    return Verdict(all(ok), "; ".join(measured))


CLAIMS = (
    Claim(f"2 correlated sets of 2 (n=4): all 4 represented, the features of each set orthogonal (90 +- {ORTHOGONAL_DEG:g} deg)",
          "\"Models prefer to represent correlated features in orthogonal dimensions.\" (2 sets of 2, n=4, m=2)", SOURCE,
          f"90 +- {ORTHOGONAL_DEG:g} deg, at every density of the preset (sparse enough that all 4 are represented)",
          pairs, {"correlation": "correlated", "shape": "orthogonal"}),
    Claim("2 anticorrelated sets of 2 (n=4): all 4 represented, the features of each set antipodal "
          f"(>= {180 - ANTIPODAL_DEG:g} deg)",
          "\"Models prefer to represent anticorrelated features in opposite directions.\" (2 sets of 2, n=4, m=2)", SOURCE,
          f"at least {180 - ANTIPODAL_DEG:g} deg apart, at every density of the preset", pairs,
          {"correlation": "anticorrelated", "shape": "antipodal"}),
    Claim(f"3 correlated sets of 2 (n=6): a hexagon (6 directions, gaps 60 +- {GAP_DEG:g} deg) with the features of each set "
          "side by side", "\"Models prefer to arrange correlated features side by side if they can't be orthogonal.\" "
          "... \"(Note that models will not embed 6 independent features as a hexagon like this.)\" (3 sets of 2, n=6, "
          "m=2)", SOURCE,
          f"6 directions, every gap 60 +- {GAP_DEG:g} deg, the two features of every set neighbours on the circle", hexagon),
    CAPACITY,
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS) -> list[Path]:
    """`sets`: W_i of the lowest-loss seed of every (n, correlation) x density cell, coloured by set."""
    table, models = run.table, _models(run)
    groups = list(models.groupby(["n_features", "correlation", "set_size"], sort=True))
    densities = sorted(models["density"].unique(), reverse=True)
    seeds = table["seed"].nunique()
    fig = Figure(figsize=(2.0 * len(densities) + 0.8, 2.1 * len(groups) + 0.8), layout="constrained")
    with matplotlib.rc_context(STYLE):
        for r, ((n, correlation, k), rows) in enumerate(groups):
            for c, density in enumerate(densities):
                ax = fig.add_subplot(len(groups), len(densities), r * len(densities) + c + 1)
                row = rows[np.isclose(rows["density"], density)]
                if row.empty:
                    ax.set_axis_off()
                    continue
                W = run.W(row.iloc[0])
                draw_sets(ax, W, int(k), correlation)
                if r == 0:
                    ax.set_title(density_label(density), fontsize=8)
                if c == 0:
                    ax.set_ylabel(f"n={n}: {n // k} {correlation}\nsets of {k}", fontsize=8)
    first = table.iloc[0]
    fig.suptitle(f"Correlated and anticorrelated feature sets, m={first['n_hidden']}: W_i of the lowest-loss of {seeds} "
                 f"seeds per cell (colour: set; line style: feature within the set). Importance 1, "
                 f"{first['steps']} steps x batch {first['batch_size']}", fontsize=9)
    return save(fig, run.directory / "figures", "sets", formats)
