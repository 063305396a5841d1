"""Computation in superposition, the demo (`python -m analysis.paper computation_demo`: n=3, m=6, dense; the paper's
section 'Computation in superposition'; docs/experiments/computation.md):
y' = ReLU(W2 ReLU(W1 x) + b) (model.kind=abs, untied) trained on |x|, x_i = 0 with probability S else U[-1, 1]
(data.distribution=signed_uniform). The per-neuron reading (in a neuron, alive, dedicated, a +/- pair):
analysis/neurons.py. Every threshold below was fixed before the full-size runs; checks use the lowest-loss seed of each
density, and print their numbers whatever the verdict.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.experiments.claims import CAPACITY, FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.figures.common import save
from analysis.figures.neurons import neurons_figure
from analysis.neurons import constant_loss, describe, neuron_summary
from analysis.run import Run
from sweep.metrics import IN_NEURON

PRESETS = (Preset("computation_demo", ("neurons",)),)
SOURCE = f"{PAPER}, section 'Computation in Superposition' > 'Basic Results'"
NEAR_ZERO = 0.1  # every other rescaled weight |W1_jk| of a pair's neuron is below this ("near zero")
DEMO_LOSS = 0.01  # the loss is below this fraction of the best constant output's (it computes |x|)


def _best(run: Run):
    return run.best.sort_values("density", ascending=False)


def pairs(run: Run) -> list[Verdict]:
    """Per density: every feature in a ReLU(x) and a ReLU(-x) neuron, near zero on the others."""
    table, verdicts = run.table, []
    m, n = int(table["n_hidden"].iloc[0]), int(table["n_features"].iloc[0])
    every = table.drop_duplicates(["run", "model_id"])
    for _, row in _best(run).iterrows():
        s = neuron_summary(run.W(row), run.W(row, "W2"))
        reached = sum(neuron_summary(run.W(r), run.W(r, "W2"))["pairs"] == n for _, r in every.iterrows()
                      if np.isclose(r["density"], row["density"]))
        seeds = int(np.isclose(every["density"], row["density"]).sum())
        verdicts.append(Verdict(s["pairs"] == n and s["alive"] == m == 2 * n and s["crosstalk"] < NEAR_ZERO,
                                f"{describe(s)}; largest other weight {s['crosstalk']:.3f}; "
                                f"{reached} of {seeds} seeds have a pair for every feature", {"density": row["density"]}))
    return verdicts


def computes_abs(run: Run) -> list[Verdict]:
    """Per density: the loss far below the best constant output's."""
    table, verdicts = run.table, []
    for _, row in _best(run).iterrows():
        baseline = constant_loss(row["density"], table[(table["run"] == row["run"]) & (table["model_id"] == row["model_id"])]
                                 .sort_values("feature")["importance"])
        verdicts.append(Verdict(row["loss"] < DEMO_LOSS * baseline, f"loss {row['loss']:.3g}, constant output {baseline:.3g} "
                                f"(ratio {row['loss'] / baseline:.2g})", {"density": row["density"]}))
    return verdicts


CLAIMS = (
    Claim("1-S={density:g}: each feature has a ReLU(x) and a ReLU(-x) neuron (in exactly two monosemantic neurons of "
          f"opposite W1 sign), every other rescaled |W1_jk| of them < {NEAR_ZERO:g}",
          "\"For each input feature\" ... \"it constructs a 'positive side' neuron\" ... \"and a 'negative side' neuron\" "
          "... \"It then adds these together to compute absolute value\"", SOURCE,
          f"in a neuron: rescaled |W1_ji| > {IN_NEURON:g}; every other weight of those neurons < {NEAR_ZERO:g} ('near zero')",
          pairs),
    Claim(f"1-S={{density:g}}: it computes |x| (loss < {DEMO_LOSS:.0%} of the best constant output's)",
          "\"performs absolute value exactly as one might expect\"", SOURCE,
          f"< {DEMO_LOSS:.0%} of the loss of the best constant output E|x|: the constant is what a model that computes "
          "nothing reaches", computes_abs),
    CAPACITY,
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS) -> list[Path]:
    """`neurons`: per density (rows), the lowest-loss seed's rescaled W1, W2^T and per-neuron stacked W1 bars."""
    return save(neurons_figure(run), run.directory / "figures", "neurons", formats)
