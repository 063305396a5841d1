"""`python -m analysis.paper adversarial`, CI-sized: n=12, m=3, three densities, 2,000 steps. Too small for the
paper's >3x (a finding at full size, docs/experiments/adversarial.md): this checks the pipeline and the baseline."""
from __future__ import annotations

from analysis.experiments.adversarial import curve
from analysis.paper import reproduce
from analysis.report import write_report
from analysis.run import Run

SMALL = ["model.n_features=12", "model.n_hidden=3", "density=[1.0,0.1,0.02]", "seed=[0,1]", "steps=2000",
         "batch_size=512", "exec.progress=false"]


def test_small_adversarial_measures_every_claim(tmp_path):
    directory, facts = reproduce("adversarial", SMALL, root=tmp_path, progress=False)
    assert len(facts) == 4 and all(f.measured for f in facts)
    baseline = [f for f in facts if f.claim.startswith("dense")]
    assert baseline[0].passed, baseline[0].measured  # the dense model is the model without superposition
    assert facts[-1].passed, facts[-1].measured  # capacity
    assert (directory / "figures" / "adversarial.png").is_file()
    assert "alt='adversarial'" in write_report(directory).read_text()  # the report shows the experiment's figure
    c = curve(Run(directory, "adversarial"))  # the worst feature per input hurts at least as much as one for all
    assert len(c) == 3 and (c["per_example"] >= c["relative"] - 1e-9).all(), c
    assert "per input instead (docs page): x" in facts[0].measured
