"""Correlated pairs collapsing onto their principal component over density (`python -m analysis.paper
correlated_collapse`: 3 correlated pairs, n=6, m=2; docs/experiments/correlated.md). Checks read the lowest-loss
seed of each cell, or every seed tied with it after the precise ranking (analysis/rescore.py: up to 2^26 shared samples
a model). A tie left there whose verdicts disagree is the transition between two of the paper's regimes, whose ends it
calls approximate: the density PASSes when one of the tied seeds has the paper's configuration, and both verdicts are
printed. Measured values are always printed. The reading of a pair (collapsed, split, ...): analysis/geometry.py.
The regimes' ends are the paper's approximate claims: a FAIL there is a finding (exit 0).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from analysis import restarts
from analysis.experiments.claims import CAPACITY, FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.figures.common import STYLE, save, title
from analysis.figures.restarts import draw_restarts
from analysis.figures.sets import draw_sets
from analysis.geometry import PCA_TOLERANCE, collapse_summary, projection_error
from analysis.rescore import Z, precise_ties
from analysis.run import Run

PRESETS = (Preset("correlated_collapse", ("collapse", "restarts"), findings=True),)
SOURCE = f"{PAPER}, section 'Correlated and Anticorrelated Features' > 'Collapsing of Correlated Features'"
# The figure's labels, as the paper prints them, for each regime
LABEL = {None: "Most PCA-like Solution Approximately 0.5 ≤ 1-S",
         3: "All Sets of Features Collapsed Approximately 0.25 ≤ 1-S ≤ 0.5",
         2: "Two Sets of Features Collapsed Approximately 0.15 ≤ 1-S ≤ 0.2",
         1: "One Set of Features Collapsed Approximately 0.05 ≤ 1-S ≤ 0.15",
         0: "No Features Collapsed Approximately 1-S ≤ 0.05"}
# The paper's collapse regimes: (lowest density, highest density, collapsed pairs); None: "PCA-like".
REGIMES = ((0.5, 1.0, None), (0.25, 0.5, 3), (0.15, 0.2, 2), (0.05, 0.15, 1), (0.0, 0.05, 0))
WHAT = {3: "all 3 sets collapsed", 2: "two sets collapsed", 1: "one set collapsed",
        0: "none collapsed: a hexagon of 6 directions"}


def _models(run: Run):
    return run.best.sort_values(["n_features", "correlation", "density"])


def in_regime(density: float, low: float, high: float, expected) -> bool:
    """The paper's regimes: 1-S >= 0.5 (PCA-like), <= 0.05 (none), else strictly inside (low, high); its ends are
    approximate, and 0.2-0.25 belongs to no regime."""
    if expected is None:
        return density >= low
    if expected == 0:
        return density <= high
    return low < density < high


def summaries(run: Run) -> dict:
    """{density: (tied, seeds the evaluation tied, samples of the precise ranking)}, tied = [(seed, collapse_summary,
    projection_error), ...]: the lowest-loss seed of each density first, then every seed that neither the evaluation
    nor the precise ranking tells from it (analysis/rescore.py: precise_ties)."""
    k, summary = int(run.setting("set_size")), {}
    for _, row in run.once(precise_ties).iterrows():
        W = run.W(row)
        tied, _, _ = summary.setdefault(row["density"], ([], int(row["evaluation_ties"]), int(row["rescore_samples"])))
        tied.append((int(row["seed"]), collapse_summary(W, k), projection_error(W)))
    return summary


def _passes(s: dict, error: float, expected) -> bool:
    if expected is None:
        return error <= PCA_TOLERANCE
    return bool(s["collapsed"] == expected and (expected or s["directions"] == 6))


def _describe(seed: int, s: dict, error: float) -> str:
    return f"seed {seed}: {s['collapsed']} collapsed ({'/'.join(s['states'])}), {s['directions']} directions, " \
           f"max|WW^T-I| {error:.2f}"


def _ranked(evaluation_ties: int, samples: int, kept: int) -> str:
    """How the density's seed(s) were picked: by the evaluation alone, or by the precise ranking at 2^k samples."""
    if samples == 0:
        return ""
    return f" ({evaluation_ties} seeds tied by the evaluation, {kept} left at 2^{samples.bit_length() - 1} shared samples)"


def regime(run: Run, low: float, high: float, expected) -> Verdict | None:
    """Every density of the run inside the regime (lowest-loss seed): PCA-like, or `expected` pairs collapsed. Where
    seeds the precise ranking cannot tell apart disagree, the density is a TIE: the transition between two regimes,
    which PASSes when one of them is the paper's (its regime ends are approximate); both verdicts are printed."""
    inside = {d: s for d, s in run.once(summaries).items() if in_regime(d, low, high, expected)}
    if not inside:
        return None
    passed, parts = True, []
    for d, (tied, evaluation_ties, samples) in sorted(inside.items(), reverse=True):
        verdicts = {_passes(s, e, expected) for _, s, e in tied}
        passed &= True in verdicts
        tie = (f"TIE of {len(tied)} seeds (within {Z:g} paired SEs), verdicts disagree (a transition; the paper's "
               "configuration is one of them): ") if len(verdicts) > 1 else ""
        shown = tied if len(verdicts) > 1 else tied[:1]
        parts.append(f"density {d:g}{_ranked(evaluation_ties, samples, len(tied))}: {tie}"
                     + " vs ".join(_describe(*t) for t in shown))
    return Verdict(passed, "; ".join(parts))


def _says(low, high, expected) -> str:
    if expected is None:
        return f"1-S >= {low:g}: PCA-like (W^T W an orthogonal rank-m projection: max |W W^T - I| <= {PCA_TOLERANCE:g})"
    return f"1-S <= {high:g}: {WHAT[expected]}" if expected == 0 else f"1-S in ({low:g}, {high:g}): {WHAT[expected]}"


CLAIMS = (
    *(Claim(_says(low, high, expected),
            f"\"{LABEL[expected]}\" (the figure's label) ... \"As we decrease sparsity, the features progressively "
            "'collapse' into their principal components. In very dense regimes, the solution becomes equivalent to PCA.\"",
            SOURCE,
            "the paper's approximate regime ends, each checked strictly inside; collapsed: within 20 deg, both norms > "
            f"0.25; PCA-like: max |W W^T - I| <= {PCA_TOLERANCE:g}; seeds tied on 2^26 shared samples whose verdicts "
            "disagree: a transition, PASS when one has the paper's configuration (the ends are approximate)", regime,
            {"low": low, "high": high, "expected": expected})
      for low, high, expected in REGIMES),
    CAPACITY,
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS) -> list[Path]:
    """`collapse`: collapsed pairs and stored directions of the lowest-loss seed vs density, over the paper's
    regimes; below, the model at every density. `restarts`: best of k seeds and the share of seeds per collapse count
    (analysis/restarts.py: tables beside the run)."""
    table = run.table
    k = int(table["set_size"].iloc[0])
    restarts.write(run, lambda W: f"{collapse_summary(W, k)['collapsed']} collapsed")
    drawn = draw_restarts(run.directory, "collapsed pairs", formats)
    models = _models(run).sort_values("density", ascending=False)
    rows = [(row, run.W(row)) for _, row in models.iterrows()]
    summaries = [collapse_summary(W, k) for _, W in rows]
    density = np.array([row["density"] for row, _ in rows])
    cols = len(rows)
    fig = Figure(figsize=(max(8.0, 1.25 * cols), 5.2), layout="constrained")
    grid = fig.add_gridspec(2, cols, height_ratios=[2.2, 1])
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot(grid[0, :])
        shades = ("0.93", "white")
        for j, (low, high, expected) in enumerate(REGIMES):
            ax.axvspan(max(low, 0.007), high, color=shades[j % 2], zorder=0)
            label = "PCA-like" if expected is None else f"paper: {expected} collapsed"
            ax.text(np.sqrt(max(low, 0.007) * high), 6.3, label, ha="center", va="bottom", fontsize=7)
        ax.plot(density, [s["collapsed"] for s in summaries], "o-", color="C3", label="collapsed pairs (measured)")
        ax.plot(density, [s["directions"] for s in summaries], "s--", color="C0", label="distinct directions stored")
        ax.set_xscale("log")
        ax.set_xlim(0.007, 1.1)
        ax.set_ylim(-0.3, 7.2)
        ax.set_xlabel("feature density 1-S (log)")
        ax.set_ylabel("count (lowest-loss seed)")
        ax.legend(loc="center left", fontsize=7)
        for c, (row, W) in enumerate(rows):
            axw = fig.add_subplot(grid[1, c])
            draw_sets(axw, W, k)
            axw.set_title(f"1-S={row['density']:g}", fontsize=7)
    fig.suptitle(f"Collapse of correlated pairs onto (a+b)/√2, lowest-loss of {table['seed'].nunique()} seeds per "
                 f"density (colour: set). {title(table)}", fontsize=9)
    return save(fig, run.directory / "figures", "collapse", formats) + drawn
