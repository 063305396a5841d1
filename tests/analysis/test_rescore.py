"""The precise ranking (analysis/rescore.py) on hand-built weights: a seed the evaluation tied with the best is told
apart on shared samples when it is worse, and stays tied when it is the same model."""
import numpy as np
import pandas as pd

from analysis.rescore import precise_ties, rescore
from analysis.run import Run

N, M = 6, 2


def run_of(Ws, losses, ses, density=0.3) -> Run:
    """A Run of one cell (density) of toy models with the given W (m, n), b = 0, evaluated losses and SEs."""
    rows = [{"run": "r", "model_id": i, "seed": i, "feature": f, "density": density, "sparsity": 1 - density,
             "importance": 1.0, "status": "ok", "loss": losses[i], "loss_se": ses[i], "exact_loss": np.nan,
             "model_kind": "relu", "n_features": N, "n_hidden": M, "distribution": "uniform", "correlation": "none",
             "set_size": 1} for i in range(len(Ws)) for f in range(N)]
    run = Run("unused")
    run.table = pd.DataFrame(rows)
    run.weights = {"r": {"W": np.stack(Ws).astype(np.float32), "b": np.zeros((len(Ws), N), np.float32),
                         "model_id": np.arange(len(Ws))}}
    return run


def test_the_paired_ranking_tells_apart_what_the_evaluation_tied():
    angles = np.linspace(0, 2 * np.pi, N, endpoint=False)
    hexagon = np.stack([np.cos(angles), np.sin(angles)])  # stores all 6 features
    two = np.zeros((M, N))
    two[0, 0] = two[1, 1] = 1.0  # stores 2 features: worse at density 0.3
    run = run_of([two, hexagon, hexagon], losses=[0.10, 0.10, 0.10], ses=[0.01] * 3)
    assert len(run.tied) == 3  # the evaluation (SE 10%) cannot tell them apart
    scored = rescore(run, run.tied)
    assert scored["paired_gap"].min() == 0.0 and scored.loc[scored["seed"] == 0, "paired_gap"].item() > 0
    kept = precise_ties(run)
    assert kept["seed"].tolist() == [1, 2] and kept["tie_size"].tolist() == [2, 2]  # the same model twice: a tie
    np.testing.assert_array_equal(kept["paired_gap"], [0.0, 0.0])


def test_a_tie_left_by_the_first_round_is_rescored_on_more_samples():
    """Seed 1 is the hexagon relabelled (the same loss by symmetry, other errors per sample) and 0.1% longer: 2 batches
    cannot tell it from the best (gap ~0.1 SE), 128 batches can (~5 SE); seeds 0 and 2 (the same model) stay tied."""
    angles = np.linspace(0, 2 * np.pi, N, endpoint=False)
    hexagon = np.stack([np.cos(angles), np.sin(angles)])
    swapped = hexagon[:, [1, 0, 3, 2, 5, 4]]
    run = run_of([hexagon, 1.001 * swapped, hexagon], losses=[0.10] * 3, ses=[0.01] * 3)
    assert len(precise_ties(run, rounds=(2,))) == 3  # the first round alone leaves the three tied
    kept = precise_ties(run, rounds=(2, 128))
    assert sorted(kept["seed"]) == [0, 2] and kept["tie_size"].tolist() == [2, 2]
    assert (kept["rescore_samples"] == 128 * 16384).all()
