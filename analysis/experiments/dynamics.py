"""Learning dynamics (the paper's section of that name): each feature's dimensionality D_i over training, above the loss
curve, for a uniform-importance model whose features end in digons. `python -m analysis.paper dynamics`;
docs/experiments/dynamics.md.

Reads the weights kept at log-spaced steps (exec.snapshots, snapshots.npz) and the training loss (history.parquet,
whose rows end at every snapshot step too). Definitions (docs/experiments/dynamics.md), fixed before the full-size run:

- levels: D_i = 0 (not represented), 1/2 (one of an antipodal pair: a digon), 1 (a dimension of its own); a feature
  is *at* a level when within LEVEL_TOL of it.
- jump of feature i: its largest change of D_i over a window of steps [t / WINDOW, t] (WINDOW = 4: two doublings,
  0.6 decades of the log-step axis); the feature *jumps* when that change is >= JUMP and it ends at a level.
- loss drop over the window [t / WINDOW, t]: (L(t / WINDOW) - L(t)) / L(t / WINDOW), L the training loss of the
  logged interval ending at that snapshot step.
- quiet window: one in which no feature's D_i changes by more than QUIET.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from analysis.experiments.claims import FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.figures.common import STYLE, save, title
from analysis.run import Run
from sweep.metrics import dimensionality

# The paper's learning-dynamics claim (jumps between D_i levels, the loss dropping at them): a FAIL is a finding
PRESETS = (Preset("dynamics", ("dynamics",), findings=True),)
SOURCE = f"{PAPER}, section 'Learning dynamics'"
LEVELS = (0.0, 0.5, 1.0)
LEVEL_TOL = 0.05  # at a level: |D_i - level| <= this
WINDOW = 4  # a jump happens within steps [t / WINDOW, t]
JUMP = 0.2  # ... and changes D_i by at least this
QUIET = 0.05  # a window is quiet when every D_i changes by at most this in it
DROP_AT_JUMPS = 0.25  # the claim: median loss drop over the jumps' windows at least this ...
DROP_WHEN_QUIET = 0.05  # ... and over the quiet windows at most this
ANTIPODAL = -0.9  # a digon: the two features' cosine below this


def trajectories(run_: Run) -> list[dict]:
    """Per model of the run: seed, snapshot steps (S,), D (S, n), W (S, m, n), the training loss at each snapshot step
    (S,) and the final loss; the lowest final loss first."""
    out = []
    table, history = run_.table, run_.history
    for run, snaps in run_.snapshots.items():
        steps = snaps["step"]
        for g, model_id in enumerate(snaps["model_id"]):
            loss = history[(history["run"] == run) & (history["model_id"] == model_id)].set_index("step")["loss"]
            row = table[(table["run"] == run) & (table["model_id"] == model_id)].iloc[0]
            out.append({"run": run, "model_id": int(model_id), "seed": int(row["seed"]), "steps": steps,
                        "W": snaps["W"][:, g], "D": dimensionality(snaps["W"][:, g].astype(np.float64)),
                        "loss": loss.reindex(steps - 1).to_numpy(np.float64), "final_loss": float(row["loss"])})
    return sorted(out, key=lambda t: (t["final_loss"], t["seed"]))


def window_starts(steps: np.ndarray) -> np.ndarray:
    """For each snapshot k, the index of the last snapshot at or before steps[k] / WINDOW (-1: none)."""
    return np.searchsorted(steps, steps / WINDOW, side="right") - 1


def final_levels(D: np.ndarray) -> np.ndarray:
    """(n,) the level each feature ends at, NaN where it ends at none."""
    final = D[-1]
    nearest = np.asarray(LEVELS)[np.abs(final[:, None] - np.asarray(LEVELS)).argmin(axis=1)]
    return np.where(np.abs(final - nearest) <= LEVEL_TOL, nearest, np.nan)


def digons(W_final: np.ndarray, levels: np.ndarray) -> tuple[int, bool]:
    """(pairs, ok): features at level 1/2 paired antipodally (each one's partner at cosine < ANTIPODAL); ok when every
    feature ends at 0 or 1/2 and those at 1/2 all have their partner."""
    half = np.flatnonzero(levels == 0.5)
    unit = W_final[:, half] / np.linalg.norm(W_final[:, half], axis=0)
    cosine = unit.T @ unit
    partnered = (np.where(np.eye(len(half), dtype=bool), 1.0, cosine) < ANTIPODAL).sum(axis=1) == 1
    ok = bool(np.isin(levels, (0.0, 0.5)).all() and partnered.all() and len(half) > 0)
    return int(partnered.sum() // 2), ok


def jumps(t: dict) -> dict:
    """Per feature its largest change of D_i within a window, where, and whether it jumps; per window the loss drop
    and whether it is quiet."""
    D, steps, loss = t["D"], t["steps"], t["loss"]
    start = window_starts(steps)
    valid = start >= 0
    change = np.where(valid[:, None], D - D[np.maximum(start, 0)], 0.0)  # (S, n)
    at = np.abs(change).argmax(axis=0)  # (n,)
    size = np.abs(change)[at, np.arange(D.shape[1])]
    levels = final_levels(D)
    drop = np.where(valid, (loss[np.maximum(start, 0)] - loss) / loss[np.maximum(start, 0)], np.nan)
    quiet = valid & (np.abs(change).max(axis=1) <= QUIET)
    jumped = (size >= JUMP) & ~np.isnan(levels)
    return {"size": size, "at": at, "jumped": jumped, "levels": levels, "drop": drop, "quiet": quiet,
            "drop_at_jumps": drop[at[jumped]], "drop_when_quiet": drop[quiet]}


def measured(run: Run) -> dict:
    """What the three claims read, from every model's trajectory (`run.once(measured)` reads them once)."""
    ends, jumped, at_jumps, when_quiet = [], [], [], []
    for t in trajectories(run):
        j = jumps(t)
        pairs, ok = digons(t["W"][-1], j["levels"])
        ends.append((t["seed"], pairs, int((j["levels"] == 0).sum()), ok))
        jumped.append((t["seed"], int(j["jumped"].sum())))
        at_jumps.append(j["drop_at_jumps"])
        when_quiet.append(j["drop_when_quiet"])
    return {"ends": ends, "jumped": jumped, "at_jumps": np.concatenate(at_jumps), "when_quiet": np.concatenate(when_quiet)}


def end_in_digons(run: Run) -> Verdict:
    ends = run.once(measured)["ends"]
    return Verdict(all(ok for *_, ok in ends),
                   "; ".join(f"seed {s}: {p} digons, {z} features at 0{'' if ok else ' (NOT digons)'}" for s, p, z, ok in ends))


def features_jump(run: Run) -> Verdict:
    n, jumped = int(run.setting("n_features")), run.once(measured)["jumped"]
    return Verdict(all(k >= n / 2 for _, k in jumped), ", ".join(f"seed {s}: {k}/{n}" for s, k in jumped), {"n": n})


def loss_drops(run: Run) -> Verdict:
    at_jumps, when_quiet = run.once(measured)["at_jumps"], run.once(measured)["when_quiet"]
    med_jump = float(np.median(at_jumps)) if at_jumps.size else float("nan")
    med_quiet = float(np.median(when_quiet)) if when_quiet.size else float("nan")
    return Verdict(med_jump >= DROP_AT_JUMPS and med_quiet <= DROP_WHEN_QUIET,
                   f"at {at_jumps.size} jumps {med_jump:.1%} (quartiles {np.nanpercentile(at_jumps, 25):.1%}-"
                   f"{np.nanpercentile(at_jumps, 75):.1%}); in {when_quiet.size} quiet windows {med_quiet:.1%}"
                   if at_jumps.size and when_quiet.size else f"{at_jumps.size} jumps, {when_quiet.size} quiet windows")


CLAIMS = (
    Claim(f"every seed ends in digons (each D_i within {LEVEL_TOL} of 0 or 1/2, the features at 1/2 in antipodal "
          f"pairs, cosine < {ANTIPODAL})", "paraphrase: with uniform importance at this density the features end in "
          "digons (antipodal pairs, D_i = 1/2)", SOURCE, f"within {LEVEL_TOL} of a level (training noise); antipodal: "
          f"cosine < {ANTIPODAL}", end_in_digons),
    Claim(f"D_i jumps: in every seed at least half of the {{n}} features change D_i by >= {JUMP} within a factor "
          f"{WINDOW} of steps and end at a level",
          "paraphrase: D_i jumps between levels (\"energy levels\", the paper's phrase as docs/experiments/dynamics.md "
          "quotes it)", SOURCE,
          f"a change >= {JUMP} within a factor {WINDOW} of steps (0.6 decades), in at least half the features of every seed",
          features_jump),
    Claim(f"the loss drops at the jumps: median relative loss drop over the jumps' windows >= {DROP_AT_JUMPS:.0%} and "
          f"over the quiet windows (every D_i within {QUIET}) <= {DROP_WHEN_QUIET:.0%}",
          "paraphrase: the loss curve drops where the features jump, and is flat between", SOURCE,
          f">= {DROP_AT_JUMPS:.0%} at the jumps against <= {DROP_WHEN_QUIET:.0%} when quiet: a drop the eye sees on a log "
          "axis, against noise", loss_drops),
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS, columns: int = 3) -> list[Path]:
    """`dynamics`: per seed (columns; the lowest final loss first), each feature's D_i over training (top; log step
    axis; dotted: the levels 0, 1/2, 1; ticks: each jumping feature's jump step) above the training loss (bottom)."""
    table = run.table
    models = trajectories(run)[:columns]
    fig = Figure(figsize=(4.2 * len(models) + 0.6, 5.4), layout="constrained")
    grid = fig.add_gridspec(2, len(models), height_ratios=[1.6, 1])
    cmap = matplotlib.colormaps["tab20"]
    with matplotlib.rc_context(STYLE):
        for c, t in enumerate(models):
            j = jumps(t)
            top = fig.add_subplot(grid[0, c])
            bottom = fig.add_subplot(grid[1, c], sharex=top)
            for i in range(t["D"].shape[1]):
                top.plot(t["steps"], t["D"][:, i], color=cmap(i % 20), lw=1.1)
                if j["jumped"][i]:
                    bottom.axvline(t["steps"][j["at"][i]], color=cmap(i % 20), lw=0.6, alpha=0.6)
            for level in LEVELS:
                top.axhline(level, color="0.5", lw=0.6, ls=":")
            top.set_xscale("log")
            top.set_ylim(-0.05, 1.05)
            top.set_title(f"seed {t['seed']}: {int(j['jumped'].sum())} features jump; final loss {t['final_loss']:.3g}",
                          fontsize=9)
            top.tick_params(labelbottom=False)
            bottom.plot(t["steps"], t["loss"], color="k", lw=1.2)
            bottom.set_yscale("log")
            bottom.set_xlabel("training step (log scale)")
            if c == 0:
                top.set_ylabel("feature dimensionality D_i")
                bottom.set_ylabel("training loss\n(importance-weighted MSE)")
        fig.suptitle(f"Learning dynamics: each feature's D_i over training (one colour a feature; dotted: the levels "
                     f"0, 1/2, 1) above the loss (vertical lines: the jumps). {title(table)}", fontsize=9)
    return save(fig, run.directory / "figures", "dynamics", formats)
