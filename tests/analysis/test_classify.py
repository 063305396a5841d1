"""analysis/classify.py at its edges, hand values: the superposition threshold itself is 'dedicated', the extra
feature of a 3-feature optimum is its last, ties of relative importance are exact (to 1e-9)."""
from __future__ import annotations

import numpy as np

from analysis.classify import classify, tied_phases


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
