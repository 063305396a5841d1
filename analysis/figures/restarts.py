"""`restarts`: has the best of the restarts converged (left: best-of-k excess over the best of all seeds, per density),
and how the seeds spread over configurations (right: share of seeds per configuration, per density). Draws the
tables analysis/restarts.py wrote."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.figures.common import STYLE, save
from analysis.restarts import CONFIGURATIONS, RESTARTS


def draw_restarts(directory: Path, what: str, formats) -> list[Path]:
    curves = pd.read_parquet(directory / f"{RESTARTS}.parquet")
    configs = pd.read_parquet(directory / f"{CONFIGURATIONS}.parquet")
    densities = sorted(curves["density"].unique(), reverse=True)
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    with matplotlib.rc_context(STYLE):
        ax, bars = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        colours = matplotlib.colormaps["viridis"](np.linspace(0, 0.95, len(densities)))
        for colour, d in zip(colours, densities):
            c = curves[curves["density"] == d]
            ax.plot(c["k"], 100 * c["excess"] + 1e-4, color=colour, lw=1, label=f"{d:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("restarts k (seeds 0..k-1)")
        ax.set_ylabel("best of k over best of all, % (+1e-4)")
        ax.legend(title="1-S", fontsize=6, ncol=2)
        table = configs.pivot_table(index="density", columns="configuration", values="share", fill_value=0.0)
        table = table.loc[densities]
        bottom = np.zeros(len(table))
        for j, name in enumerate(table.columns):
            bars.bar(range(len(table)), table[name], bottom=bottom, label=str(name), color=f"C{j % 10}")
            bottom += table[name].to_numpy()
        bars.set_xticks(range(len(table)), [f"{d:g}" for d in table.index], rotation=60, fontsize=7)
        bars.set_xlabel("feature density 1-S")
        bars.set_ylabel("share of seeds")
        bars.legend(title=what, fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(f"Restarts: has the lowest loss converged, and how the {int(curves['k'].max())} seeds per density "
                 "spread over configurations", fontsize=9)
    return save(fig, directory / "figures", "restarts", formats)
