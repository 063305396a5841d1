"""`python -m analysis.paper sae_synthetic`, CI-sized: 32 directions in 16 dims, dictionaries 8 .. 64, 3,000 steps."""
from __future__ import annotations

from analysis.paper import reproduce

SMALL = ["synthetic.d=16", "synthetic.n_features=32", "synthetic.mean_active=3", "synthetic.seed=[0]",
         "sae.dict_size=[8,16,32,64]", "sae.l1=[0.003,0.01,0.03,0.1]", "sae.steps=3000"]


def test_small_synthetic_recovers_the_ground_truth(tmp_path):
    directory, facts = reproduce("sae_synthetic", SMALL, root=tmp_path, progress=False)
    failed = [f"{f.claim}: {f.measured}" for f in facts if not f.passed]
    assert len(facts) == 2 and not failed, failed
    for name in ("sae_mmcs_size", "sae_atoms"):
        assert (directory / "figures" / f"{name}.png").is_file()
