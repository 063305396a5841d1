"""ties(): seeds the evaluation cannot tell apart are reported together, never picked by noise (issue 22)."""
import numpy as np
import pandas as pd

from analysis.aggregate import ties


def models(losses, ses, exact=None, density=0.1) -> pd.DataFrame:
    """One feature per model, one cell (density); seeds 0.. in order."""
    exact = [np.nan] * len(losses) if exact is None else exact
    return pd.DataFrame({"run": "r", "model_id": range(len(losses)), "seed": range(len(losses)), "feature": 0,
                         "importance": 1.0, "density": density, "sparsity": 1 - density, "status": "ok",
                         "loss": losses, "loss_se": ses, "exact_loss": exact})


def test_seeds_within_two_combined_standard_errors_of_the_best_are_a_tie():
    # best 1.00 (se 0.01); 1.02: gap 0.02 < 2 sqrt(2) 0.01 = 0.0283, tied; 1.03: gap 0.03 > 0.0283, not
    t = ties(models([1.03, 1.00, 1.02, 1.5], [0.01] * 4))
    assert t["seed"].tolist() == [1, 2] and t["tie_size"].tolist() == [2, 2]
    # a precise evaluation tells the same seeds apart: a clear best
    t = ties(models([1.03, 1.00, 1.02, 1.5], [0.001] * 4))
    assert t["seed"].tolist() == [1] and t["tie_size"].tolist() == [1]


def test_the_exact_loss_has_no_noise_and_cells_tie_apart():
    # the evaluated losses say tie, the exact losses (the ranking where they exist) do not
    t = ties(models([1.0, 1.0001], [0.01, 0.01], exact=[0.9, 0.9001]))
    assert t["seed"].tolist() == [0]
    both = pd.concat([models([1.0, 1.01], [0.01] * 2, density=0.1),
                      models([2.0, 2.5], [0.01] * 2, density=0.2).assign(model_id=[2, 3])])
    t = ties(both)
    assert t[["density", "seed"]].values.tolist() == [[0.2, 0], [0.1, 0], [0.1, 1]]  # by cell (sparsity first)
    assert t["tie_size"].tolist() == [1, 2, 2]
