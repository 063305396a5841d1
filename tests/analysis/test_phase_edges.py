"""analysis/phase.py at its edges, hand values: the superposition threshold itself is 'dedicated', the extra feature
of a 3-feature optimum is its last, ties of relative importance are exact (to 1e-9), a majority tie resolved row by
row, and applies() tells the models of a merged multirun apart by (run, model_id)."""
import numpy as np
import pandas as pd

from analysis.classify import classify, tied_phases
from analysis.phase import _majority, applies


def test_the_threshold_itself_is_dedicated():
    # README: superposition when superposition > 0.25 (and norm > 0.5)
    assert classify([1.0, 1.0, 1.0], [0.25, 0.2500001, 0.0]).tolist() == ["dedicated", "superposition", "dedicated"]


def test_the_extra_feature_of_a_three_feature_optimum_is_the_last():
    # n=3, m=2: features 0 and 1 dedicated (orthogonal unit columns), feature 2 (the extra) not represented
    W = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    phase, phases = tied_phases(W, [2.0])
    assert phase.tolist() == ["not_represented"] and phases == ["not_represented"]
    phase, phases = tied_phases(W, [1.0])  # a tie: every phase a feature has, first in PHASES order
    assert phase.tolist() == ["not_represented"] and phases == ["not_represented|dedicated"]
    W_extra_kept = np.array([[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])  # feature 0 dropped, the extra kept
    assert tied_phases(W_extra_kept, [2.0])[0].tolist() == ["dedicated"]
    # relative importance 1 + 2e-9 is not a tie (rtol 1e-9, no absolute tolerance)
    assert tied_phases(W, [1.0 + 2e-9])[1] == ["not_represented"]


def test_majority_ties_are_resolved_row_by_row():
    fractions = pd.DataFrame([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.2, 0.2, 0.6]])
    best = pd.Series(["not_represented", "not_represented", "dedicated"])
    # row 0: the best seed's phase is among the tied; row 1: it is not (PHASES order); row 2: no tie
    assert _majority(fractions, best).tolist() == ["not_represented", "dedicated", "superposition"]


def test_applies_tells_the_runs_of_a_merged_multirun_apart():
    rows = []
    for run, density in (("a", 0.3), ("b", 0.7)):  # two runs of one phase sweep, model ids 0, 1 in each
        for model_id, relative in ((0, 0.5), (1, 2.0)):
            for feature in (0, 1):
                rows.append({"run": run, "model_id": model_id, "feature": feature, "density": density,
                             "importance_kind": "extra", "importance_relative": relative, "n_features": 2,
                             "n_hidden": 1, "distribution": "uniform", "model_kind": "relu"})
    table = pd.DataFrame(rows)
    assert applies(table)
    assert not applies(table.assign(density=np.where(table["feature"] == 0, 0.3, 0.7)))  # per-feature densities
