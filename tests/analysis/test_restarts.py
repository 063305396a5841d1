"""Best of k restarts and configuration shares (analysis/restarts.py) on a hand-made per-model table."""
import numpy as np
import pandas as pd
import pytest

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


TINY = ["seed=[0,1,2]", "density=[1.0,0.05]", "steps=200", "batch_size=128", "exec.log_every=100",
        "exec.eval_max_batches=64", "exec.progress=false"]


@pytest.mark.parametrize("name", ["privileged", "correlated_collapse"])
def test_the_experiments_write_and_draw_their_restarts(name, tmp_path):
    from analysis.paper import reproduce

    directory, _ = reproduce(name, TINY, root=tmp_path, progress=False)
    curve = pd.read_parquet(directory / "restarts.parquet")
    assert sorted(curve["density"].unique()) == [0.05, 1.0] and curve["k"].max() == 3
    configurations = pd.read_parquet(directory / "configurations.parquet")
    assert configurations.groupby("density")["seeds"].sum().tolist() == [3, 3]
    assert (directory / "figures" / "restarts.png").is_file()
