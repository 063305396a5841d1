"""Geometric transformations during training (the paper's learning-dynamics subsection of that name): n=6 features in
m=3 dimensions, two sets of 3 correlated features, the weights kept at log-spaced steps (exec.snapshots).
`python -m analysis.paper transformations`; docs/experiments/transformations.md.

Each kept W (m, n) gets a stage, from its columns alone (thresholds fixed before the full-size run):

- *octahedron*: all 6 norms within NORM_TOL of 1, every feature's nearest-opposite partner (cosine < ANTIPODAL) in the
  other set and partnered back (3 antipodal pairs, each joining the two sets), every D_i within LEVEL_TOL of 1/2 (so
  the 3 pair axes are orthogonal: D_i = 1/2 exactly when a feature's only interference is its partner);
- *PCA-like*: either reading the project already uses (analysis/geometry.py): W^T W an orthogonal rank-3 projection
  (`pca_like`, what a linear autoencoder learns), or two features of a set collapsed into one direction (`pair_state`
  'collapsed': the set's principal component stored in place of its features, the correlated section's PCA-like
  collapse);
- *other*: neither.

A seed *ends in the octahedron* when its last snapshot is one; its stages are *in order* when training reaches a PCA-like
snapshot (the first snapshot, step 1, the initialisation, is not one: a stage the random start already has was not
passed through) before the first octahedron one and every snapshot from there to the end is an octahedron.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from analysis.experiments.claims import FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.figures.common import STYLE, save, title
from analysis.geometry import pair_state, pca_like
from analysis.run import Run
from sweep.metrics import dimensionality

PRESETS = (Preset("transformations", ("transformations",), findings=True),)  # its FAIL has the 4x evidence (docs page)
SOURCE = f"{PAPER}, section 'Superposition and Learning Dynamics' > 'Phenomenon 2: Learning as Geometric Transformations'"
SET_SIZE = 3
NORM_TOL = 0.2  # octahedron: every ||W_i|| within this of 1 (the trained norms of represented features, ~1.0-1.1)
ANTIPODAL = -0.9  # an antipodal pair: cosine below this (about 25 degrees from opposite)
LEVEL_TOL = 0.05  # D_i within this of 1/2
ATTRACTOR = 0.5  # "a strong attractor": more than this share of the seeds end in the octahedron
STAGES = ("other", "pca", "octahedron")
PRINCIPAL = 0.9  # printed beside the order claim: W's rows span this share of the sets' principal directions


def octahedron(W: np.ndarray) -> bool:
    """W (3, 6): the octahedron with antipodal pairs across the two sets (module docstring)."""
    norms = np.linalg.norm(W, axis=0)
    if np.any(np.abs(norms - 1.0) > NORM_TOL):
        return False
    unit = W / norms
    cosine = np.where(np.eye(W.shape[1], dtype=bool), 1.0, unit.T @ unit)
    partner = cosine.argmin(axis=0)
    n = W.shape[1]
    paired = (partner[partner] == np.arange(n)) & (cosine[np.arange(n), partner] < ANTIPODAL)
    across = partner // SET_SIZE != np.arange(n) // SET_SIZE
    return bool(paired.all() and across.all() and np.all(np.abs(dimensionality(W) - 0.5) <= LEVEL_TOL))


def collapsed(W: np.ndarray) -> bool:
    """Two features of one set stored as one direction (analysis/geometry.py: pair_state)."""
    n = W.shape[1]
    return any(pair_state(W, a, b) == "collapsed" for a in range(n) for b in range(a + 1, n)
               if a // SET_SIZE == b // SET_SIZE)


def principal_share(W: np.ndarray) -> float:
    """The share of the data's principal directions, each set's sum (1, 1, 1) / sqrt(3), that the span of W's rows
    holds (0 to 1; scale-free): what a linear PCA solution spans. A random start holds about m/n = 1/2, the octahedron
    exactly 1/2 (its rows are the 3 differences of antipodal pairs), a PCA solution 1 (a reading printed beside the
    claim, not one of its stages; docs/experiments/transformations.md)."""
    n = W.shape[1]
    _, singular, rows = np.linalg.svd(W, full_matrices=False)
    rows = rows[singular > 1e-6 * max(singular.max(), 1e-30)]
    sums = np.zeros((n // SET_SIZE, n))
    for s in range(n // SET_SIZE):
        sums[s, s * SET_SIZE:(s + 1) * SET_SIZE] = 1 / np.sqrt(SET_SIZE)
    return float(np.mean(np.sum((sums @ rows.T) ** 2, axis=1)))


def stage(W: np.ndarray) -> str:
    return "octahedron" if octahedron(W) else "pca" if pca_like(W) or collapsed(W) else "other"


def stages_in_order(stages: list[str]) -> bool:
    """Not PCA-like at the start, PCA-like before the first octahedron, the octahedron kept from there to the end."""
    if "octahedron" not in stages or stages[0] == "pca":
        return False
    first = stages.index("octahedron")
    return "pca" in stages[:first] and all(s == "octahedron" for s in stages[first:])


def trajectories(run_: Run) -> list[dict]:
    """Per model: seed, snapshot steps (S,), W (S, m, n), D (S, n), stages (S,), final loss; lowest final loss first
    (the final evaluation's loss, the table's `loss`)."""
    out, table = [], run_.table
    for run, snaps in run_.snapshots.items():
        for g, model_id in enumerate(snaps["model_id"]):
            row = table[(table["run"] == run) & (table["model_id"] == model_id)].iloc[0]
            W = snaps["W"][:, g].astype(np.float64)
            out.append({"seed": int(row["seed"]), "density": float(row["density"]), "steps": snaps["step"], "W": W,
                        "D": dimensionality(W), "stages": [stage(w) for w in W], "final_loss": float(row["loss"])})
    return sorted(out, key=lambda t: (t["final_loss"], t["seed"]))


def ends(run: Run) -> Verdict:
    models = run.once(trajectories)
    octa = [t for t in models if t["stages"][-1] == "octahedron"]
    share = len(octa) / len(models)
    final = {s: sum(t["stages"][-1] == s for t in models) for s in STAGES}
    return Verdict(share > ATTRACTOR and models[0]["stages"][-1] == "octahedron",
                   f"{len(octa)}/{len(models)} seeds ({share:.0%}); lowest-loss seed {models[0]['seed']} ends "
                   f"{models[0]['stages'][-1]}; final stages {final}")


def in_order(run: Run) -> Verdict | None:
    octa = [t for t in run.once(trajectories) if t["stages"][-1] == "octahedron"]
    if not octa:
        return Verdict(False, "no seed ends in the octahedron")
    ordered = [t for t in octa if stages_in_order(t["stages"])]
    first = [int(t["steps"][t["stages"].index("octahedron")]) for t in octa]
    pca = [int(t["steps"][t["stages"].index("pca")]) for t in octa if "pca" in t["stages"]]
    spans = [t for t in octa if max((principal_share(w) for w in t["W"][1:t["stages"].index("octahedron")]),
                                    default=0.0) > PRINCIPAL]
    return Verdict(len(ordered) == len(octa),
                   f"{len(ordered)}/{len(octa)} octahedron seeds in order; first PCA-like step "
                   f"{np.median(pca) if pca else float('nan'):g} (median), first octahedron step {np.median(first):g} "
                   f"(median; range {min(first)}-{max(first)}); beside it, W's rows span over {PRINCIPAL:g} of both "
                   f"sets' principal directions after the start and before the octahedron in {len(spans)}/{len(octa)}")


CLAIMS = (
    Claim(f"the octahedron is a strong attractor: more than {ATTRACTOR:.0%} of the seeds, the lowest-loss one among "
          f"them, end in it (norms within {NORM_TOL} of 1, 3 antipodal pairs (cosine < {ANTIPODAL}) each joining the "
          f"two sets, every D_i within {LEVEL_TOL} of 1/2)",
          "\"the last solution – an octahedron with features from different correlated sets arranged in antipodal pairs – "
          "seems to be a strong attractor\"", SOURCE,
          f"more than half the seeds: 'strong attractor' read as the usual end; norms within {NORM_TOL}: trained "
          f"represented features end at 1.0-1.1; cosine < {ANTIPODAL} and D_i within {LEVEL_TOL}: training noise",
          ends),
    Claim("every seed that ends in the octahedron passes a PCA-like stage (W^T W an orthogonal rank-3 projection, or "
          "two features of a set collapsed into one direction), not at the start, before it, "
          "and keeps the octahedron from its first appearance to the end",
          "\"The learning proceeds in distinct regimes which are visible in the loss curve, with each regime "
          "corresponding to a distinct geometric transformation\" ... \"we see the toy network learns a linear PCA "
          "solution before moving to a better nonlinear solution.\"", SOURCE,
          "all such seeds: the paper describes this sequence for the octahedron's trajectory; PCA-like within 0.2, "
          "collapsed within 20 degrees (analysis/geometry.py: PCA_TOLERANCE, COLLAPSED_DEG)", in_order),
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def _picks(steps: np.ndarray, k: int) -> list[int]:
    """k snapshot indices at log-spaced steps from 10 to the last."""
    targets = np.geomspace(min(10, steps[-1]), steps[-1], k)
    return sorted({int(np.abs(np.log(steps) - np.log(t)).argmin()) for t in targets})


def figures(run: Run, formats=FORMATS, columns: int = 6, rows: int = 3) -> list[Path]:
    """`transformations`: the lowest-loss seed's 6 features as arrows in 3D at log-spaced steps (top; colour: the set,
    solid set 1, dashed set 2), and each feature's D_i over training for the lowest-loss seeds (bottom; the stage
    along the top edge: grey other, blue PCA-like, green octahedron)."""
    models = run.once(trajectories)
    best = models[0]
    picks = _picks(best["steps"], columns)
    fig = Figure(figsize=(2.6 * len(picks), 2.8 + 2.4 * rows), layout="constrained")
    grid = fig.add_gridspec(1 + rows, len(picks), height_ratios=[1.15] + [1] * rows)
    colour = {"other": "0.75", "pca": "tab:blue", "octahedron": "tab:green"}
    palette = matplotlib.colormaps["tab10"]
    with matplotlib.rc_context(STYLE):
        for c, k in enumerate(picks):
            ax = fig.add_subplot(grid[0, c], projection="3d")
            W = best["W"][k]
            for i in range(W.shape[1]):
                s = i // SET_SIZE
                ax.plot([0, W[0, i]], [0, W[1, i]], [0, W[2, i]], color=palette(i % SET_SIZE + 3 * s), lw=2,
                        ls="-" if s == 0 else "--")
            lim = max(1.0, float(np.abs(W).max()))
            ax.set(xlim=(-lim, lim), ylim=(-lim, lim), zlim=(-lim, lim), xticks=[], yticks=[], zticks=[])
            ax.set_title(f"step {int(best['steps'][k])}: {best['stages'][k]}", fontsize=8)
        for r, t in enumerate(models[:rows]):
            ax = fig.add_subplot(grid[1 + r, :])
            for i in range(t["D"].shape[1]):
                ax.plot(t["steps"], t["D"][:, i], color=palette(i % SET_SIZE + 3 * (i // SET_SIZE)), lw=1.1,
                        ls="-" if i < SET_SIZE else "--")
            for k in range(len(t["steps"]) - 1):
                ax.axvspan(t["steps"][k], t["steps"][k + 1], ymin=0.94, ymax=1.0, color=colour[t["stages"][k + 1]], lw=0)
            for level in (1 / 3, 1 / 2, 1):
                ax.axhline(level, color="0.5", lw=0.6, ls=":")
            ax.set(xscale="log", ylim=(-0.02, 1.1), ylabel="D_i")
            ax.set_title(f"seed {t['seed']}: final loss {t['final_loss']:.4g}, ends {t['stages'][-1]}", fontsize=8)
        ax.set_xlabel("training step (log scale)")
        fig.suptitle(f"Geometric transformations: two sets of 3 correlated features in 3 dimensions (solid: set 1, "
                     f"dashed: set 2). Top: the lowest-loss seed over training. Bottom: D_i (dotted 1/3, 1/2, 1; band: "
                     f"grey other, blue PCA-like, green octahedron). {title(run.table)}", fontsize=8)
    return save(fig, run.directory / "figures", "transformations", formats)
