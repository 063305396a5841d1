"""`python -m analysis.paper sae_toy`, CI-sized: one seed per density, 3,000 toy steps, L1 and TopK SAEs of 20 and 40
latents."""
from __future__ import annotations

import pandas as pd

from analysis.experiments import sae_toy
from analysis.paper import reproduce

SMALL = ["seed=[0]", "steps=3000", "exec.progress=false", "sae.dict_size=[40]", "sae.l1=[0.003,0.03,0.3]",
         "sae.k=[2,3]", "sae.seed=[0]", "sae.steps=3000"]


def test_small_sae_toy_runs_and_scores_each_density(tmp_path):
    directory, facts = reproduce("sae_toy", SMALL, root=tmp_path, progress=False)
    assert len(facts) == 4 and facts[0].passed, [f"{f.claim}: {f.measured}" for f in facts]
    assert facts[3].claim.startswith("TopK SAEs") and "TopK" in facts[3].measured and "k=" in facts[3].measured
    scores = pd.read_parquet(next(directory.rglob("sae/scores.parquet")))
    assert len(scores) == 5 * 1 * (3 + 2) and scores.groupby("sparsity")["n_true"].first().is_monotonic_increasing
    assert scores.groupby("arch")["coeff"].unique().map(sorted).to_dict() == {"l1": [0.003, 0.03, 0.3], "topk": [2, 3]}
    for name in ("sae_recovery", "sae_recovery_topk", "sae_per_dim", "sae_mmcs_size", "sae_atoms"):
        assert (directory / "figures" / f"{name}.png").is_file()
    assert "Sparse autoencoders" in (directory / "report.html").read_text()  # the report's SAE section


class Scored:
    """A stand-in for analysis.run.Run holding a hand-built scores table (sae_toy._scores' output)."""

    def __init__(self, table):
        self.table = table

    def once(self, fn):
        return self.table if fn is sae_toy._scores else fn(self)


def scores_table(topk_recovered: dict) -> pd.DataFrame:
    """n=4 features, m=2: density 1 (1 feature per dim) and two superposed densities; L1 recovers 1.0 at its best
    coefficient (0.1; 0.01 recovers 0.5), TopK `topk_recovered[sparsity]` at its best k (k=1 recovers 0.25)."""
    rows = []
    for sparsity, per_dim in ((0.0, 1.0), (0.9, 1.5), (0.99, 2.0)):
        for seed in (0, 1):
            for arch, coeff, recovered in (("l1", 0.01, 0.5), ("l1", 0.1, 1.0), ("topk", 1, 0.25),
                                           ("topk", 2, topk_recovered[sparsity])):
                for size in (2, 4, 8):
                    rows.append(dict(arch=arch, coeff=coeff, sae_seed=seed, dict_size=size, sparsity=sparsity,
                                     per_dim=per_dim, n_true=int(per_dim * 2), n_features=4, n_hidden=2,
                                     recovered=recovered if size >= 4 else 0.0, mmcs=0.5 + recovered / 2))
    return pd.DataFrame(rows)


def test_topk_check_compares_best_k_with_best_l1_at_superposed_densities_only():
    even = sae_toy.topk_as_l1(Scored(scores_table({0.0: 0.0, 0.9: 0.95, 0.99: 1.0})))  # S=0 not superposed: ignored
    assert even.passed and "S=0.9 (0.3 active/sample): L1 1.00 (l1=0.1), TopK 0.95 (k=2)" in even.measured
    assert "S=0:" not in even.measured and "S=0.99 (0.04 active/sample)" in even.measured
    worse = sae_toy.topk_as_l1(Scored(scores_table({0.0: 1.0, 0.9: 1.0, 0.99: 0.85})))  # 0.15 below L1 at S=0.99
    assert not worse.passed and "TopK 0.85 (k=2)" in worse.measured
    assert sae_toy.topk_as_l1(Scored(scores_table({0.0: 1, 0.9: 1, 0.99: 1}).query("arch == 'l1'"))) is None
