"""Reading the SAE stage's tables: seed means and the best coefficient per cell."""
import pandas as pd
import pytest

from analysis import sae


def test_best_coefficient_takes_the_highest_seed_mean_per_cell():
    table = pd.DataFrame({"sparsity": [0.9] * 4 + [0.99] * 4, "coeff": [0.1, 0.1, 0.3, 0.3] * 2, "sae_seed": [0, 1] * 4,
                          "mmcs": [0.9, 0.5, 0.8, 0.8, 0.6, 0.6, 0.7, 0.5]})
    best = sae.best_coefficient(table, ["sparsity"]).set_index("sparsity")
    # the seed mean decides, not the one best seed (0.9 at 0.1)
    assert best.loc[0.9, "coeff"] == 0.3 and best.loc[0.9, "mmcs"] == pytest.approx(0.8)
    assert best.loc[0.99, "coeff"] == 0.1 and best.loc[0.99, "mmcs_min"] == pytest.approx(0.6)


def test_no_stage_under_a_dir_is_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m sweep.sae"):
        sae.scores(tmp_path)
