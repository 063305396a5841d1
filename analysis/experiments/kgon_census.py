"""The SGD census over the training-set size T of Chen et al. 2023 (`python -m analysis.paper kgon_census`;
docs/experiments/kgon_census.md): m = 2, c = 6 and 7, one active feature per sample, 64 seeds x T = 16 .. 8192, each
model trained on its own T samples. Every model (every seed, not the best) is classified into a k-gon
(analysis/kgon_phases.py); the share of each per T is drawn beside the posterior's prediction from the exact k-gon
losses and LLCs.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.experiments.claims import CAPACITY, CHEN, FORMATS, Claim, Preset, Verdict, evaluate
from analysis.figures.common import STYLE, save
from analysis.kgon_phases import bayes_shares, candidates, census, classify_models, phase_theory
from analysis.run import Run

PRESETS = (Preset("kgon_census", ("kgon_census",)),)
SOURCE = f"{CHEN}, section 'Abstract'"
IN_KGON = 0.8  # share of runs that must end in a k-gon: fixed before the full run, after a 24-model pilot (c = 6,
# T = 64, 512, 4096, 8 seeds) left 1 of 24 in "other" (a distorted hexagon at T = 64, overfit)
ENDS = 3  # the smallest and the largest three T of the grid are compared (factor 4 in T, 192 runs a side)


def models(run: Run) -> pd.DataFrame:
    """Every model classified, with its phase's exact loss and LLC (NaN for "other")."""
    m = classify_models(run)
    theory = [phase_theory(k, c, p) if k >= 4 else (np.nan, np.nan) for k, c, p in zip(m["k"], m["c"], m["plus"])]
    return m.assign(phase_loss=[t[0] for t in theory], phase_llc=[t[1] for t in theory])


def shares(run: Run) -> pd.DataFrame:
    """Share of runs in each phase label per (c, T)."""
    m = run.once(models)
    counts = m.groupby(["c", "T", "label"]).size().rename("runs").reset_index()
    counts["share"] = counts["runs"] / counts.groupby(["c", "T"])["runs"].transform("sum")
    return counts


def in_kgon(run: Run) -> list[Verdict]:
    out = []
    for c, m in run.once(models).groupby("c"):
        share = float((m["k"] > 0).mean())
        by_k = census(m).groupby("k")["runs"].sum()
        out.append(Verdict(share >= IN_KGON, f"{share:.1%} of {len(m)} runs; by k: " +
                           ", ".join(f"{'other' if k == 0 else k}: {n}" for k, n in by_k.items()), {"c": c}))
    return out


def lower_loss_with_T(run: Run) -> list[Verdict]:
    out = []
    for c, m in run.once(models).groupby("c"):
        sizes = np.sort(m["T"].unique())
        small = m[m["T"].isin(sizes[:ENDS])]["phase_loss"].dropna()
        large = m[m["T"].isin(sizes[-ENDS:])]["phase_loss"].dropna()
        se = np.hypot(small.std() / np.sqrt(len(small)), large.std() / np.sqrt(len(large)))
        drop = small.mean() - large.mean()
        top = m[m["T"] == sizes[-1]]
        c_share = float((top["k"] == c).mean())
        bayes = bayes_shares(candidates(c), [sizes[-1]]).set_index("phase")["share"]
        out.append(Verdict(drop > 2 * se, f"mean phase loss {small.mean():.4f} (T <= {sizes[ENDS - 1]}) -> "
                           f"{large.mean():.4f} (T >= {sizes[-ENDS]}), drop {drop:.4f} +- {se:.4f}; at T = {sizes[-1]}: "
                           f"{c_share:.0%} of runs the {c}-gon, the posterior {bayes.max():.0%} on {bayes.idxmax()}",
                           {"c": c}))
    return out


CLAIMS = (
    Claim("c={c}: SGD ends in a regular k-gon (with its dead features) in >= 80% of runs",
          "\"We then show empirically that the same k-gon critical points also determine the behavior of SGD training.\"",
          SOURCE, f">= {IN_KGON}: after a pilot, see IN_KGON; 'other' holds overfit shapes at small T", in_kgon),
    Claim("c={c}: SGD's phases have lower loss at large T than at small T (mean exact loss of the phase, 2 se)",
          "\"the learning process in TMS, be it through SGD or Bayesian learning, can be characterized by a journey "
          "through parameter space from regions of high loss and low complexity to regions of low loss and high "
          "complexity.\" (the abstract says it of training; tested here over T)",
          SOURCE, "drop > 2 standard errors: the phase's exact loss, not the test loss, which overfitting alone "
          "would raise at small T", lower_loss_with_T),
    CAPACITY,
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS) -> list[Path]:
    """kgon_census: per c, the SGD share of each phase over T (left) beside the posterior's prediction (right)."""
    table, out_dir = run.once(shares), run.directory / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / "kgon_census.csv", index=False)
    cs = sorted(table["c"].unique())
    labels = sorted(set(table["label"]) | {a for c in cs for a in candidates(c)}, key=lambda s: (s == "other", s))
    colours = {lab: "0.5" if lab == "other" else matplotlib.colormaps["tab20"](i % 20) for i, lab in enumerate(labels)}
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(10, 3.4 * len(cs)))
        axes = fig.subplots(len(cs), 2, squeeze=False, sharex=True)
        for row, c in zip(axes, cs):
            sizes = np.sort(table[table["c"] == c]["T"].unique())
            wide = table[table["c"] == c].pivot_table(index="T", columns="label", values="share", fill_value=0)
            for lab in wide.columns:
                row[0].plot(wide.index, wide[lab], "o-", color=colours[lab], label=lab)
            grid = np.geomspace(sizes[0], sizes[-1], 200)
            bayes = bayes_shares(candidates(c), grid).pivot(index="T", columns="phase", values="share")
            for lab in bayes.columns:
                if bayes[lab].max() > 0.01:
                    row[1].plot(bayes.index, bayes[lab], "-", color=colours[lab], label=lab)
            for ax, what in zip(row, ("SGD: share of runs", "posterior: n L + lambda log n")):
                ax.set(xscale="log", ylim=(-0.02, 1.02), ylabel="share", title=f"c = {c}, m = 2: {what}")
                ax.legend(fontsize=7, loc="center left")
        for ax in axes[-1]:
            ax.set_xlabel("training samples T")
        fig.tight_layout()
        return save(fig, out_dir, "kgon_census", formats)
