"""Figure text a reader understands without the code (issue 24, point 9)."""
import numpy as np
import pandas as pd

from analysis.config import AnalysisConfig
from analysis.figures.common import representatives, shown_note
from analysis.figures.plot_sparsity import RULE_LABELS


def test_the_weights_figures_say_when_they_show_fewer_densities_than_were_trained():
    table = pd.DataFrame({"run": ".", "model_id": range(10), "feature": 0, "seed": 0, "density": np.linspace(0.1, 1, 10),
                          "loss": 1.0, "status": "ok", "n_features": 5, "n_hidden": 2, "model_kind": "relu"})
    models, _, densities, _ = representatives(table, AnalysisConfig(max_columns=6))
    assert len(densities) == 6 and shown_note(models, densities) == "; 6 of 10 densities shown (AnalysisConfig.max_columns)"
    models, _, densities, _ = representatives(table, AnalysisConfig(max_columns=10))
    assert shown_note(models, densities) == ""


def test_every_seed_rule_is_said_in_words():
    assert "worst seed dropped" in RULE_LABELS["paper"] and set(RULE_LABELS) == {"paper", "best", "mean"}
