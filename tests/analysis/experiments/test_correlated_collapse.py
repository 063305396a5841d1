"""The collapse regimes (analysis/experiments/correlated_collapse.py) on hand-built weights: the seeds the precise
ranking leaves tied at a density are read together; a tie whose verdicts disagree is a transition and PASSes when one
of the tied seeds has the paper's configuration."""
import numpy as np
import pandas as pd

from analysis.experiments.correlated_collapse import regime, summaries
from analysis.rescore import precise_ties
from analysis.run import Run

N, M = 6, 2


def _at(degrees) -> np.ndarray:
    angles = np.radians(np.asarray(degrees, float))
    return np.stack([np.cos(angles), np.sin(angles)])


HEXAGON = _at([0, 60, 120, 180, 240, 300])  # the sets side by side, none collapsed
ONE_COLLAPSED = _at([0, 0, 72, 144, 216, 288])  # set 0 on one direction, 5 directions


def run_of(Ws, density=0.1, evaluation_ties=4, samples=2**26) -> Run:
    """A Run whose precise ranking (kept, not computed) left the given models tied at one density."""
    rows = [{"run": "r", "model_id": i, "seed": i, "feature": f, "density": density, "set_size": 2}
            for i in range(len(Ws)) for f in range(N)]
    run = Run("unused")
    run.table = pd.DataFrame(rows)
    run.weights = {"r": {"W": np.stack(Ws).astype(np.float32), "b": np.zeros((len(Ws), N), np.float32),
                         "model_id": np.arange(len(Ws))}}
    run._kept[precise_ties] = pd.DataFrame({"run": "r", "model_id": range(len(Ws)), "seed": range(len(Ws)),
                                            "density": density, "evaluation_ties": evaluation_ties,
                                            "rescore_samples": samples})
    return run


def test_the_hand_built_weights_read_as_intended():
    summary = run_of([HEXAGON, ONE_COLLAPSED]).once(summaries)[0.1][0]
    assert [(s["collapsed"], s["directions"]) for _, s, _ in summary] == [(0, 6), (1, 5)]


def test_a_tie_of_the_papers_configuration_and_another_passes_and_prints_both():
    verdict = regime(run_of([HEXAGON, ONE_COLLAPSED]), 0.05, 0.15, 1)
    assert verdict.passed
    assert "TIE of 2 seeds" in verdict.measured and "seed 0: 0 collapsed" in verdict.measured \
        and "seed 1: 1 collapsed" in verdict.measured
    assert "4 seeds tied by the evaluation, 2 left at 2^26 shared samples" in verdict.measured


def test_a_tie_without_the_papers_configuration_fails():
    verdict = regime(run_of([HEXAGON, HEXAGON]), 0.05, 0.15, 1)
    assert not verdict.passed and "TIE" not in verdict.measured


def test_one_seed_left_is_read_alone():
    assert regime(run_of([ONE_COLLAPSED], evaluation_ties=3), 0.05, 0.15, 1).passed
    assert not regime(run_of([HEXAGON], evaluation_ties=3), 0.05, 0.15, 1).passed
    assert regime(run_of([HEXAGON]), 0.0, 0.05, 0) is None  # density 0.1 is outside the regime
