"""analysis/phase.py at its edges, hand values: a majority tie resolved row by row, and applies() tells the models of a
merged multirun apart by (run, model_id). (classify's edges: test_classify.py.)"""
import numpy as np
import pandas as pd

from analysis.phase import _majority, applies


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
