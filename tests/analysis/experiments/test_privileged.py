"""privileged's regime check prints how its verdict moves with the "in a neuron" threshold (0.3-0.6), on hand-built W."""
import numpy as np
import pandas as pd

from analysis.experiments.privileged import PAIRS, regime
from analysis.run import Run

N, M = 10, 5


def pairs_code(second: float) -> np.ndarray:
    """Feature i in neurons i mod 5 (weight 0.8) and i+1 mod 5 (weight 0.8; feature 0: `second`)."""
    W = np.zeros((M, N))
    for i in range(N):
        W[i % M, i], W[(i + 1) % M, i] = 0.8, second if i == 0 else 0.8
    return W


def run_of(W, density=0.01) -> Run:
    run = Run("unused")
    run.table = pd.DataFrame([{"run": "r", "model_id": 0, "seed": 0, "feature": f, "density": density,
                               "sparsity": 1 - density, "importance": 0.75 ** f, "status": "ok", "loss": 0.1,
                               "exact_loss": np.nan, "n_hidden": M, "n_features": N} for f in range(N)])
    run.weights = {"r": {"W": W[None].astype(np.float32), "b": np.zeros((1, N), np.float32), "model_id": np.arange(1)}}
    return run


def test_the_verdict_is_printed_at_every_threshold():
    # the full-size run's density 0.01 (issue 22): a second weight of 0.45 is a pair at 0.3 and 0.4, not at 0.5 or 0.6
    v = regime(run_of(pairs_code(0.45)), 0.0, 0.04, PAIRS)
    assert not v.passed and "verdict by threshold 0.3:PASS 0.4:PASS 0.5:FAIL 0.6:FAIL" in v.measured
    v = regime(run_of(pairs_code(0.7)), 0.0, 0.04, PAIRS)
    assert v.passed and "0.3:PASS 0.4:PASS 0.5:PASS 0.6:PASS" in v.measured
