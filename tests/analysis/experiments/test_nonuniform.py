"""`python -m analysis.paper nonuniform`, CI-sized: 6 relative densities, 12 restarts, 3,000 steps."""
from __future__ import annotations

from analysis.paper import reproduce

R = (0.1, 0.2, 0.4, 1, 3, 10)
SMALL = ["data.feature_sparsity=" + ",".join(f"[{1 - 0.05 * r:g},0.95,0.95,0.95,0.95]" for r in R),
         "seed=[0,1,2,3,4,5,6,7,8,9,10,11]", "steps=3000", "exec.progress=false"]


def test_small_nonuniform_shows_the_papers_facts(tmp_path):
    directory, facts = reproduce("nonuniform", SMALL, root=tmp_path, progress=False)
    failed = [f"{f.claim}: {f.measured}" for f in facts if not f.passed]
    assert len(facts) == 6 and not failed, failed
    assert (directory / "figures" / "nonuniform_solutions.png").is_file()
    assert (directory / "figures" / "nonuniform_loss.png").is_file()
