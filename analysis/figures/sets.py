"""Feature sets drawn in the plane (m = 2): each W_i an arrow coloured by its set (the correlated experiments)."""
from __future__ import annotations

import matplotlib
import numpy as np

from analysis.geometry import sets_of

SET_COLOURS = matplotlib.colormaps["tab10"]


def draw_sets(ax, W, k: int = 2, correlation: str = "correlated") -> None:
    """Each W_i as an arrow, coloured by its set; the features of a set drawn solid, dashed, dotted..."""
    styles = ("-", "--", ":", "-.")
    for s, members in enumerate(sets_of(W.shape[1], k)):
        for j, i in enumerate(members):
            ax.plot([0, W[0, i]], [0, W[1, i]], color=SET_COLOURS(s % 10), lw=1.6, ls=styles[j % len(styles)])
            ax.scatter([W[0, i]], [W[1, i]], color=SET_COLOURS(s % 10), s=12, zorder=3)
    lim = max(0.6, float(np.abs(W).max()) * 1.15)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.axhline(0, color="0.85", lw=0.5, zorder=0)
    ax.axvline(0, color="0.85", lw=0.5, zorder=0)
