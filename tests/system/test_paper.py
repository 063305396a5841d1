"""CPU-sized versions of the paper's experiments: the qualitative facts the paper reports must hold.

The same checks run on the full-size experiments (`python -m analysis.paper all`, marked slow here).
"""
import pytest

import analysis
from analysis.paper import EXPERIMENTS, reproduce

SMALL = {
    "intro": ["batch_size=512"],
    "basic": ["seed=[0,1]", "density=[1.0,0.1,0.01]", "steps=6000"],
    "phase_n2": ["density=${geomspace:1,0.01,8}", "importance.relative=${geomspace:0.1,10,8}", "seed=[0,1,2]",
                 "steps=3000"],
    "phase_n3": ["density=${geomspace:1,0.01,6}", "importance.relative=${geomspace:0.1,10,6}", "seed=[0,1,2]",
                 "steps=4000"],
    "notebook_intro": ["steps=5000", "batch_size=512"],
    "correlated": ["seed=[0,1,2,3]", "density=[0.02]", "steps=2000", "batch_size=512", "optim.lr=1e-2"],
    "computation_demo": ["seed=[0,1,2,3]", "steps=3000", "batch_size=512", "optim.lr=3e-3"],
    "kgons": ["seed=[0,1,2,3,4,5,6,7]", "steps=5000"],
    "kgon_census": ["model.n_features=6", "seed=[0,1,2,3,4,5,6,7]", "data.train_size=[16,32,64,2048,4096,8192]",
                    "steps=4000"],
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_experiment_shows_the_papers_facts(name, tmp_path):
    directory, facts = reproduce(name, SMALL[name] + ["exec.progress=false"], root=tmp_path, progress=False)
    failed = [f"{f.claim}: {f.measured}" for f in facts if not f.passed]
    assert facts and not failed, failed
    assert (directory / "figures").is_dir() and any((directory / "figures").glob("*.png"))
    assert (directory / "report.html").stat().st_size > 0  # as every sweep.run writes one (issue 24, point 11)
    models = analysis.load(directory).drop_duplicates(["run", "model_id"])  # capacity: sum_i D_i <= m (test_capacity.py)
    assert (models["dimensionality_sum"] <= models["n_hidden"] + 1e-9).all(), models["dimensionality_sum"].max()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(n for n, e in EXPERIMENTS.items() if not e.findings))  # blog: test_blog.py
def test_full_size_experiment(name, tmp_path):
    """Paper scale, trained afresh by this code (a run in outputs/paper/ may come from other code)."""
    _, facts = reproduce(name, [], root=tmp_path, progress=False)
    failed = [f"{f.claim}: {f.measured}" for f in facts if not f.passed]
    assert facts and not failed, failed


def test_angular_gaps_tell_a_pentagon_from_other_shapes():
    import numpy as np

    from analysis.geometry import angular_gaps

    def at(degrees, norm=1.0):
        t = np.radians(degrees)
        return norm * np.stack([np.cos(t), np.sin(t)])

    assert angular_gaps(at(np.array([10, 82, 154, 226, 298]))) == pytest.approx([72] * 5)
    square_and_one = angular_gaps(at(np.array([0, 45, 90, 180, 270])))  # 5 directions, not a pentagon
    assert sorted(square_and_one) == pytest.approx([45, 45, 90, 90, 90])
    assert len(angular_gaps(at(np.array([0, 72, 144, 216, 288]), np.array([1, 1, 1, 1, 0.3])))) == 4  # one too short


def test_gallery_records_what_was_measured(tmp_path):
    import json

    from analysis.paper import Fact, record

    run = tmp_path / "run"
    for job, seconds in (("0", 10.0), ("1", 5.5)):
        (run / job).mkdir(parents=True)
        (run / job / "summary.json").write_text(json.dumps({"n_models": 360, "seconds": seconds}))
    facts = [Fact("a claim", True, "3 of 3"), Fact("another claim", False, "1 of 3"), Fact("bias", True, "max |b_i| 0.1")]
    results = record(tmp_path / "gallery", "phase_n3", ["seed=[0,1]"], run, facts, 42.0)
    text = results.read_text()
    assert "`python -m analysis.paper phase_n3 -- seed=[0,1]`" in text and "720 (2)" in text and "| 15.5 | 42 |" in text
    assert "| a claim | PASS | 3 of 3 |" in text and "| another claim | FAIL | 1 of 3 |" in text
    assert "| bias | PASS | max \\|b_i\\| 0.1 |" in text  # a | in a cell is escaped, the row keeps its columns
    assert json.loads((tmp_path / "gallery" / "results" / "phase_n3.json").read_text())["training_s"] == 15.5
