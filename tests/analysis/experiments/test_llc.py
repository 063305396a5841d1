"""The llc experiment (analysis/experiments/llc.py), CI-sized: 8 seeds x 5,000 steps at c = k = 4, 5, 6 and chains of
6,000 steps (4 chains, n = 10^5) in place of the preset's 20,000, one trained c-gon per c; lambda_hat within 15% of the
derived lambda at the exact k-gons and at the trained c-gons."""
import pytest

from analysis.experiments import llc
from analysis.llc import SGLDConfig
from analysis.paper import reproduce

SMALL = llc.Settings(sgld=SGLDConfig(steps=6000, burn_in=1500, chains=4, batch_size=1000))


def test_small_llc_experiment_calibrates_at_exact_and_trained_kgons(tmp_path, monkeypatch):
    monkeypatch.setattr(llc, "SETTINGS", SMALL)
    monkeypatch.setattr(llc, "TRAINED", 1)  # one trained c-gon per c
    _, facts = reproduce("llc", ["seed=[0,1,2,3,4,5,6,7]", "steps=5000", "exec.progress=false"], root=tmp_path,
                         progress=False)
    exact = [f for f in facts if f.claim.startswith("exact")]
    trained = [f for f in facts if f.claim.startswith("SGD-trained")]
    assert len(exact) == 3 and trained, [f.claim for f in facts]
    failed = [f"{f.claim}: {f.measured}" for f in facts if not f.passed]
    assert not failed, failed


@pytest.mark.parametrize("k, expected", [(4, 5.5), (5, 7.0), (6, 8.5)])
def test_a_wrong_lambda_fails_the_claim(k, expected):
    """The verdict reads the derived value: 20% off is a FAIL, 10% off a PASS."""
    import pandas as pd

    for factor, passed in ((1.2, False), (1.1, True), (0.8, False)):
        table = pd.DataFrame([dict(k=k, mean=factor * expected, chain_sd=0.1, derived=expected)])
        assert llc.verdicts(table, "exact")[0].passed is passed
