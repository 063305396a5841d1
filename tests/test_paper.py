"""CPU-sized versions of the paper's experiments: the qualitative facts the paper reports must hold.

The same checks run on the full-size experiments (`python -m analysis.paper all`, marked slow here).
"""
import pytest

from analysis.paper import EXPERIMENTS, reproduce

SMALL = {
    "intro": ["batch_size=512"],
    "basic": ["seed=[0,1]", "density=[1.0,0.1,0.01]", "steps=6000"],
    "phase_n2": ["density=${geomspace:1,0.01,8}", "importance.relative=${geomspace:0.1,10,8}", "seed=[0,1,2]",
                 "steps=3000"],
    "phase_n3": ["density=${geomspace:1,0.01,6}", "importance.relative=${geomspace:0.1,10,6}", "seed=[0,1,2]",
                 "steps=4000"],
    "geometry": ["model.n_features=60", "model.n_hidden=6", "density=[1.0,0.1,0.01]", "steps=4000", "batch_size=512"],
    "notebook_intro": ["steps=5000", "batch_size=512"],
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_experiment_shows_the_papers_facts(name, tmp_path):
    directory, facts = reproduce(name, SMALL[name] + ["exec.progress=false"], root=tmp_path, progress=False)
    failed = [f"{f.claim}: {f.measured}" for f in facts if not f.passed]
    assert facts and not failed, failed
    assert (directory / "figures").is_dir() and any((directory / "figures").glob("*.png"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(n for n, e in EXPERIMENTS.items() if not e.findings))  # blog: test_blog.py
def test_full_size_experiment(name):
    """Paper scale: writes into outputs/paper/ (reused if already there)."""
    _, facts = reproduce(name, [], progress=False)
    failed = [f"{f.claim}: {f.measured}" for f in facts if not f.passed]
    assert facts and not failed, failed
