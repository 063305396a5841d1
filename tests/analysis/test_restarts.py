"""Best of k restarts and configuration shares (analysis/restarts.py) on a hand-made per-model table."""
import numpy as np
import pandas as pd

from analysis.restarts import best_of_k, shares


def models() -> pd.DataFrame:
    # density 0.1: seeds 0..3 with losses 3, 2, 2.5, 1 (seed 3 the best); density 0.5: seed 1 diverged
    return pd.DataFrame({"density": [0.1] * 4 + [0.5] * 2, "seed": [2, 0, 3, 1, 0, 1],
                         "loss": [2.5, 3.0, 1.0, 2.0, 4.0, np.nan], "status": ["ok"] * 5 + ["diverged"]})


def test_best_of_k_takes_seeds_in_order():
    curve = best_of_k(models())
    low = curve[curve["density"] == 0.1]
    assert low["k"].tolist() == [1, 2, 3, 4]
    assert low["best"].tolist() == [3.0, 2.0, 2.0, 1.0] and low["best_seed"].tolist() == [0, 1, 1, 3]
    np.testing.assert_allclose(low["excess"], [2.0, 1.0, 1.0, 0.0])
    high = curve[curve["density"] == 0.5]
    assert high["k"].tolist() == [1] and high["best"].tolist() == [4.0]  # the diverged seed never counts


def test_shares_count_ok_seeds_per_configuration():
    labels = pd.Series(["a", "b", "a", "a", "b", "a"])
    out = shares(models(), labels).set_index(["density", "configuration"])
    assert out.loc[(0.1, "a"), "seeds"] == 3 and out.loc[(0.1, "b"), "share"] == 0.25
    assert out.loc[(0.5, "b"), "share"] == 1.0 and (0.5, "a") not in out.index  # the diverged seed is left out
