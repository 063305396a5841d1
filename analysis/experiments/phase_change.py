"""Superposition as a phase change: the extra feature's phase over density x relative importance, against both
theories (`phase_n2`: n=2, m=1; `phase_n3`: n=3, m=2; docs/experiments/phase_change.md). Reads the comparison table
`plot_run` stored (analysis/phase.py: compare; phase_cells.parquet); the best seed is ranked by exact loss."""
from __future__ import annotations

from analysis.experiments.claims import FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.phase import agreement
from analysis.run import Run

PRESETS = (Preset("phase_n2", ("phase",)), Preset("phase_n3", ("phase",)))
SOURCE = f"{PAPER}, section 'Superposition as a Phase Change'"
TARGET = {"phase_n2": 0.98, "phase_n3": 0.97}  # the bar with the preset's seeds and steps
REDUCED = 0.85  # fewer seeds or steps (the CI-sized runs) leave more cells in local minima
FULL_SEEDS, FULL_STEPS = 10, 10_000  # the presets' seeds per cell and steps: the targets apply there
BELOW = 1e-4  # a best seed's exact loss this far below the optimum (relative) is impossible unless something is broken


def agrees(run: Run) -> Verdict:
    table, cells, target = run.table, run.once(Run.phase_cells), TARGET[run.preset]
    full = table["seed"].nunique() >= FULL_SEEDS and int(table["steps"].min()) >= FULL_STEPS
    minimum = target if full else REDUCED
    best, majority = agreement(cells, "optimal"), agreement(cells, "optimal", "majority")
    paper = agreement(cells, "paper")
    missed = cells[cells["phase"] != cells["phase_optimal"]]
    measured = (f"{best:.1%} of {len(cells)} cells (majority of seeds: {majority:.1%}; "
                f"best seed vs the paper's theory: {paper:.1%})")
    if len(missed):
        measured += (f"; in the {len(missed)} missed cells {missed['frac_at_optimum'].mean():.0%} of seeds "
                     f"reach the optimum on average")
    reduced = "" if full else f"; {target:.0%} with {FULL_SEEDS} seeds and {FULL_STEPS:,} steps"
    return Verdict(best >= minimum, measured, {"n": int(table["n_features"].iloc[0]), "m": int(table["n_hidden"].iloc[0]),
                                               "minimum": minimum, "reduced": reduced})


def never_below(run: Run) -> Verdict:
    cells = run.once(Run.phase_cells)
    below = cells["best_gap"] < -BELOW
    return Verdict(not below.any(), f"{int(below.sum())} cells below; best seed within 1% of the optimum in "
                                    f"{(cells['best_gap'] <= 0.01).mean():.1%} of cells, "
                                    f"median gap {cells['best_gap'].median():.2%}")


def optimum_beats_paper(run: Run) -> Verdict:
    cells = run.once(Run.phase_cells)
    return Verdict(bool((cells["loss_optimal"] <= cells["loss_paper"] * (1 + 1e-6)).all()),
                   f"largest ratio optimal/paper {float((cells['loss_optimal'] / cells['loss_paper']).max()):.4f}")


CLAIMS = (
    Claim("n={n}, m={m}: the best seed's phase agrees with the optimal theory (>= {minimum:.0%} of cells{reduced})",
          "\"there appears to be a real phase change, observed in both the empirical and theoretical diagrams!\"",
          SOURCE + " > 'Sparsity-Relative Importance Phase Diagram (n=2, m=1)'",
          f"98% (n=2) / 97% (n=3) of cells with {FULL_SEEDS} seeds and {FULL_STEPS:,} steps (ours: what the full runs reach; "
          f"the missed cells are local minima, docs/analysis.md), {REDUCED:.0%} for smaller runs; the best seed is ours: "
          "the paper's empirical diagram averages ten models a point less the worst", agrees),
    Claim("no best seed's exact loss is below the optimal theory's (1e-4)",
          "ours: the optimal theory is a lower bound on the exact loss, so this holds unless the theory or the exact loss "
          "is broken",
          "this project (analysis/theory.py)", f"{BELOW:g} relative: the theory's optimiser tolerance", never_below),
    Claim("the optimal theory's loss is never above the paper's",
          "ours: the optimum over free norms and biases includes the paper's fixed candidates, so this holds unless "
          "the optimiser is broken",
          "this project (analysis/theory.py, theory_paper.py)", "1e-6 relative: float rounding", optimum_beats_paper),
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS):
    return []  # the generic phase figure (analysis/figures/plot_phase.py) shows it
