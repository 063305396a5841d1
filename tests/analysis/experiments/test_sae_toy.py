"""`python -m analysis.paper sae_toy`, CI-sized: one seed per density, 3,000 toy steps, L1 and TopK SAEs of 20 and 40
latents."""
from __future__ import annotations

import pandas as pd

from analysis.paper import reproduce

SMALL = ["seed=[0]", "steps=3000", "exec.progress=false", "sae.dict_size=[20,40]", "sae.l1=[0.003,0.03,0.3]",
         "sae.k=[2,3]", "sae.seed=[0]", "sae.steps=3000"]


def test_small_sae_toy_runs_and_scores_each_density(tmp_path):
    directory, facts = reproduce("sae_toy", SMALL, root=tmp_path, progress=False)
    assert len(facts) == 4 and facts[0].passed, [f"{f.claim}: {f.measured}" for f in facts]
    assert facts[3].claim.startswith("TopK SAEs") and "TopK" in facts[3].measured and "k=" in facts[3].measured
    scores = pd.read_parquet(next(directory.rglob("sae/scores.parquet")))
    assert len(scores) == 5 * 2 * (3 + 2) and scores.groupby("sparsity")["n_true"].first().is_monotonic_increasing
    assert scores.groupby("arch")["coeff"].unique().map(sorted).to_dict() == {"l1": [0.003, 0.03, 0.3], "topk": [2, 3]}
    for name in ("sae_recovery", "sae_recovery_topk", "sae_per_dim", "sae_mmcs_size", "sae_atoms"):
        assert (directory / "figures" / f"{name}.png").is_file()
    assert "Sparse autoencoders" in (directory / "report.html").read_text()  # the report's SAE section
