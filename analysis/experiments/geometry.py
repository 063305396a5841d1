"""The geometry of superposition: dimensions per feature m / ||W||_F^2 over density, uniform importance (`geometry`:
n=400, m=30; `notebook_geometry`: the notebook's n=200, m=20; docs/experiments/geometry.md). Checks read the lowest-loss
seed of each density.

Beside m / ||W||_F^2, what it is made of at the sparsest density: it is (m/n) / mean ||W_i||^2, so it goes below m/n
when norms grow above 1, while the scale-free mean D_i stays near m/n (sum D_i <= m); a value under m/n is not more
features per dimension."""
from __future__ import annotations

import numpy as np

from analysis.experiments.claims import FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.run import Run

PRESETS = (Preset("geometry", ("dims_per_feature", "dimensionality")),
           Preset("notebook_geometry", ("dims_per_feature", "dimensionality")))
SOURCE = f"{PAPER}, section 'The Geometry of Superposition' (Feature Dimensionality)"


def _dims(run: Run):
    return run.best.sort_values("density", ascending=False)["dims_per_feature"].to_numpy()


def dense(run: Run) -> Verdict:
    dims = _dims(run)
    return Verdict(dims[0] > 0.9, f"{dims[0]:.3f}")


def sparsest(run: Run) -> Verdict:
    dims, best = _dims(run), run.best_rows
    at = best[np.isclose(best["density"], run.best.sort_values("density", ascending=False)["density"].iloc[-1])]
    m, n = int(run.setting("n_hidden")), int(run.setting("n_features"))
    return Verdict(dims[-1] < 0.5 * dims[0], f"{dims[-1]:.3f} (m/n = {m / n:.3f}; mean ||W_i||^2 {(at['norm'] ** 2).mean():.2f}; "
                                             f"mean D_i {at['dimensionality'].mean():.3f})")


CLAIMS = (
    Claim("dense: about one dimension per feature (m features, orthogonal)",
          "paraphrase: dense features get a dimension each (m / ||W||_F^2 = 1)", SOURCE,
          "> 0.9: m unit features give exactly 1; below 0.9 the dense model already shares dimensions", dense),
    Claim("sparsest: well under half a dimension per feature (superposition)",
          "paraphrase: dimensions per feature fall as features get sparser", SOURCE,
          "under half the dense value: the paper's curve falls below its 1/2 plateau at the sparsest densities", sparsest),
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS):
    return []  # the generic figures (dims_per_feature, dimensionality) show it
