"""The paper's notebook configs over density (`notebook_intro`: n=5, m=2, 0.9^i; `notebook_sparsity`: n=100, m=20;
docs/experiments/notebook.md). Checks read the lowest-loss seed of each density."""
from __future__ import annotations

from analysis.experiments.claims import FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.run import Run

PRESETS = (Preset("notebook_intro", ("geometry",)), Preset("notebook_sparsity", ("weights", "dims_per_feature")))
SOURCE = f"{PAPER}, section 'Demonstrating Superposition' > 'Basic Results' (the configs: the paper's notebook)"


def _models(run: Run):
    return run.best.sort_values("density", ascending=False)


def dense(run: Run) -> Verdict:
    dims = _models(run)["dims_per_feature"].to_numpy()
    return Verdict(dims[0] > 0.9, f"{dims[0]:.3f}")


def more_when_sparse(run: Run) -> Verdict:
    m, counts = int(run.setting("n_hidden")), _models(run)["n_represented"].to_numpy()
    return Verdict(counts[-1] > m, f"{counts[-1]}", {"m": m})


CLAIMS = (
    Claim("dense: about one dimension per feature (no superposition)",
          "\"The ReLU output model behaves the same on dense features (1-S=1.0)\" (as the linear model: \"the top-m most "
          "important features\")", SOURCE,
          "> 0.9 of m / ||W||_F^2: m unit features give exactly 1", dense),
    Claim("sparsest: more than m={m} features represented",
          "\"as sparsity increases, we see superposition emerge. The model represents more features by having them not be "
          "orthogonal to each other.\"", SOURCE,
          "more than m features with ||W_i|| > 0.5 (sweep/metrics.py: REPRESENTED_NORM)", more_when_sparse),
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS):
    return []  # the generic figures show it
