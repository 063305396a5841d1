"""Correlated sets of k features in m = k dimensions: a local orthogonal basis per set, the sets superposed
(`python -m analysis.paper correlated_bases`: 2 sets of 10, n=20, m=10; docs/experiments/correlated.md). Checks read
the lowest-loss seed of each density; measured values are always printed."""
from __future__ import annotations

from analysis.experiments.claims import CAPACITY, FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.geometry import set_cosines
from analysis.run import Run

PRESETS = (Preset("correlated_bases", ("weights",)),)
SOURCE = f"{PAPER}, section 'Correlated and Anticorrelated Features' > 'Local Almost-Orthogonal Bases'"
LOCAL_BASIS_COS = 0.1  # a local orthogonal basis: every pair of a set within |cos| <= this


def local_bases(run: Run) -> Verdict:
    table = run.table
    k = int(table["set_size"].iloc[0])
    ok, measured = [], []
    for _, row in run.best.sort_values(["n_features", "correlation", "density"]).iterrows():
        W = run.W(row)
        within, across = set_cosines(W, k)
        ok.append(int(row["n_represented"]) == W.shape[1] and within.max() <= LOCAL_BASIS_COS and across.mean() > within.mean())
        measured.append(f"density {row['density']:g}: {int(row['n_represented'])} represented, within-set |cos| max "
                        f"{within.max():.3f} (mean {within.mean():.3f}), across sets mean {across.mean():.3f} "
                        f"(max {across.max():.2f})")
    n, m = int(table["n_features"].iloc[0]), int(table["n_hidden"].iloc[0])
    return Verdict(all(ok), "; ".join(measured), {"sets": n // k, "k": k, "n": n, "m": m})


CLAIMS = (
    Claim("{sets} correlated sets of {k} (n={n}, m={m}): every feature represented, each set a local orthogonal basis "
          f"(within-set |cos| <= {LOCAL_BASIS_COS:g}), the sets superposed (across-set mean |cos| above within-set)",
          "\"Within each set of correlated featuers, the model creates a local orthogonal basis, having each feature be "
          "represented orthogonally.\" ... \"even though the model as a whole is in superposition, the correlated feature "
          "sets considered in isolation are (nearly) orthogonal\"", SOURCE,
          f"within-set |cos| <= {LOCAL_BASIS_COS:g} (orthogonal up to training noise), across-set mean above within-set mean",
          local_bases),
    CAPACITY,
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS):
    return []  # the generic weights figure shows it
